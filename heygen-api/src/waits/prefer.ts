import { type JsonSchema } from '../http/validation.js';

/** The request header of held waits, and the answer's word that one was applied (RFC 7240). */
export const PREFER_HEADER = 'Prefer';
export const PREFERENCE_APPLIED_HEADER = 'Preference-Applied';

/**
 * `Prefer` as the OpenAPI document shows it. Not checked by Ajv: [RFC 7240 §2] a preference the
 * server cannot use is ignored, never refused, so no value of this header is a `400`.
 */
export const PREFER_SCHEMA: JsonSchema = {
  type: 'string',
  example: 'wait=10',
};

/** [RFC 9110 §5.6.2] token characters. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** [RFC 9111 §1.2.2] delta-seconds: digits, nothing else (no sign, no fraction, no exponent). */
const DELTA_SECONDS = /^[0-9]+$/;

/**
 * The seconds `Prefer: wait=<seconds>` asks for (RFC 7240 §4.3), or undefined when the request
 * states no usable wait: no `wait` preference, or a malformed value (`wait=-1`, `wait=1.5`,
 * `wait=soon`), which the RFC says to ignore. `Infinity` when it asks for the longest wait: `wait`
 * with no value (as Replicate's `Prefer: wait`), or more seconds than a number holds exactly (the
 * caller clamps it to MAX_WAIT_S, as RFC 9111 §1.2.2 says of a delta-seconds too large).
 *
 * Preference names are case-insensitive; several preferences may share one header or come in
 * several `Prefer` headers (Node joins those with `, `); the first `wait` counts and any later one
 * is ignored (RFC 7240 §2); parameters after `;` are ignored; a quoted value is unquoted.
 */
export function parsePreferWait(
  header: string | readonly string[] | undefined,
): number | undefined {
  if (header === undefined) return undefined;
  const text = typeof header === 'string' ? header : header.join(',');
  for (const preference of splitOutsideQuotes(text, ',')) {
    const [head = ''] = splitOutsideQuotes(preference, ';');
    const equals = head.indexOf('=');
    const name = (equals < 0 ? head : head.slice(0, equals)).trim();
    if (name.toLowerCase() !== 'wait' || !TOKEN.test(name)) continue;
    const value = equals < 0 ? '' : unquote(head.slice(equals + 1).trim());
    if (value === undefined) return undefined;
    // [RFC 7240 §2] an empty value is no value: the longest wait.
    if (value === '') return Infinity;
    if (!DELTA_SECONDS.test(value)) return undefined;
    const seconds = Number(value);
    return Number.isSafeInteger(seconds) ? seconds : Infinity;
  }
  return undefined;
}

/** `text` split at `separator`, except inside a quoted-string. */
function splitOutsideQuotes(text: string, separator: ',' | ';'): string[] {
  const parts: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (quoted && char === '\\') i++;
    else if (char === '"') quoted = !quoted;
    else if (!quoted && char === separator) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

/** A token as is, a quoted-string unquoted; undefined when it is neither. */
function unquote(word: string): string | undefined {
  if (!word.startsWith('"')) return word === '' || TOKEN.test(word) ? word : undefined;
  if (word.length < 2 || !word.endsWith('"')) return undefined;
  return word.slice(1, -1).replace(/\\(.)/g, '$1');
}
