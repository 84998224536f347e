import { HeyGenStatusListenerMode, type HeyGenAPIOptions } from './types.js';

/** [RFC 9562] What the server accepts as a client id. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** An absolute http(s) URL, or in a page one relative to it. */
const isHttpUrl = (value: unknown): boolean => {
  try {
    const base = (globalThis as { location?: { href: string } }).location?.href;
    return /^https?:$/.test(new URL(value as string, base).protocol);
  } catch {
    return false;
  }
};

const invalid = (option: string, expected: string): never => {
  throw new TypeError(`HeyGenAPI: option ${option} must be ${expected}`);
};

/** @throws TypeError naming `mode` unless it is one of {@link HeyGenStatusListenerMode} */
export const validateMode = (mode: unknown): void => {
  if (!Object.values(HeyGenStatusListenerMode).includes(mode as HeyGenStatusListenerMode)) {
    invalid('mode', "'auto', 'sse' or 'poll'");
  }
};

/**
 * Checks every option of the constructor, so a wrong one fails where it is written, not as a
 * busy loop or a stream of 400s later.
 * @throws TypeError naming the first option of the wrong type or range
 */
export const validateOptions = (options: HeyGenAPIOptions): void => {
  const given = options as unknown as Record<string, unknown>;
  const check = (option: string, ok: (value: unknown) => boolean, expected: string): void => {
    if (given[option] !== undefined && !ok(given[option])) invalid(option, expected);
  };
  const isCount = (value: unknown): boolean => Number.isSafeInteger(value) && +value! >= 0;
  const isMs = (value: unknown): boolean =>
    typeof value === 'number' && value >= 0 && value < 2 ** 31;
  const isFunction = (value: unknown): boolean => typeof value === 'function';
  if (!isHttpUrl(options?.url)) invalid('url', "the server's http(s) URL");
  validateMode(options.mode);
  check('pollInterval', isMs, 'a number of ms');
  check('retryDelay', isMs, 'a number of ms');
  check('maxRetries', isCount, 'a whole number ≥ 0');
  check('clientId', (value) => typeof value === 'string' && UUID.test(value), 'a UUID');
  check('apiKey', (value) => typeof value === 'string' && !!value, 'a non-empty string');
  check('fallback', (value) => typeof value === 'boolean', 'true or false');
  check(
    'wait',
    (value) => typeof value === 'boolean' || isCount(value),
    'a boolean or a whole number ≥ 0',
  );
  check(
    'logging',
    (value) => typeof value === 'boolean' || isFunction(value),
    'a boolean or a function',
  );
  check(
    'headers',
    (value) => isFunction(value) || (!!value && typeof value === 'object' && !Array.isArray(value)),
    'an object or a function',
  );
  check('EventSource', (value) => value === null || isFunction(value), 'a constructor or null');
  for (const option of ['fetch', 'onError', 'onStateChange'])
    check(option, isFunction, 'a function');
};
