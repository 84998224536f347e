// heygen-lib/webhooks: tells a webhook request that heygen-api signed from any other (issue 19).
// heygen-api signs per Standard Webhooks (https://www.standardwebhooks.com/, quoted as [spec]);
// this checks with WebCrypto alone, so it runs in Node 20, browsers and edge runtimes, and it is a
// bundle of its own (dist/webhooks.js), so the main entry carries none of it.
import {
  WebhookVerificationError,
  type WebhookVerificationReason,
} from './errors/webhook-verification-error.js';

export { WebhookVerificationError, type WebhookVerificationReason };
// This bundle's own copy of the base class: `instanceof HeyGenError` holds for its errors when
// HeyGenError is imported from here (the main entry's is another copy; `code` works with both).
export { HeyGenError, isHeyGenError, type HeyGenErrorCode } from './errors/heygen-error.js';

/** The smallest part of a fetch `Headers` object that {@link verifyWebhook} uses. */
export interface HeadersLike {
  /** The header's value (several joined by `, `), or `null` when absent. Any case. */
  get(name: string): string | null;
}

/**
 * A request's headers: a fetch `Headers` object, or a plain object such as Node's `req.headers`
 * (names in any case; an array counts as several headers of one name).
 */
export type WebhookHeaders = HeadersLike | Record<string, string | string[] | undefined>;

/** Options of {@link verifyWebhook}. */
export interface VerifyWebhookOptions {
  /**
   * How far `webhook-timestamp` may be from now, in seconds, either way: an older request may be
   * a replay, a newer one comes from a clock that is off.
   * @default 300
   */
  toleranceSeconds?: number;
  /**
   * The current time, in milliseconds since the epoch.
   * @default Date.now
   */
  now?: () => number;
}

const SECRET_PREFIX = 'whsec_';
const DEFAULT_TOLERANCE_SECONDS = 5 * 60;
/** `<version>,<base64>`; a trailing comma is left by joining two headers (`a, b`). */
const SIGNATURE = /^(v\d+[a-z]*),([A-Za-z0-9+/]+={0,2}),?$/;

const encoder = new TextEncoder();

const fail = (reason: WebhookVerificationReason, message: string, cause?: unknown): never => {
  throw new WebhookVerificationError(reason, message, cause);
};

/**
 * Checks that a webhook request was signed by heygen-api with your signing secret, recently, and
 * returns its JSON payload. Pass the body exactly as received: parsing and re-serializing JSON
 * changes the bytes, and the signature with them. The same `webhook-id` may arrive more than once
 * (deliveries are retried): use it to process each event once.
 *
 * @param body - the raw request body, as text or bytes
 * @param headers - the request's headers: `webhook-id`, `webhook-timestamp`, `webhook-signature`
 * @param secret - the signing secret, `whsec_` and base64 (`GET /webhooks/secret`)
 * @returns the payload, parsed as JSON
 * @throws {@link WebhookVerificationError} when a header is missing or malformed, the timestamp
 * is out of tolerance, no `v1` signature matches, or the body is not JSON
 * @throws TypeError when `body`, `headers`, `secret` or `options` (`now` included) are of the wrong
 * type, or without WebCrypto
 *
 * @example
 * ```ts
 * import { verifyWebhook, WebhookVerificationError } from 'heygen-lib/webhooks';
 *
 * // A fetch handler (Deno, Bun, Cloudflare Workers, Next.js route handlers).
 * async function receive(request: Request): Promise<Response> {
 *   try {
 *     const event = await verifyWebhook(await request.text(), request.headers, SECRET);
 *     await handle(event); // idempotent per webhook-id: a delivery may come twice
 *     return new Response(null, { status: 204 });
 *   } catch (error) {
 *     if (error instanceof WebhookVerificationError) return new Response(null, { status: 400 });
 *     throw error;
 *   }
 * }
 * ```
 */
export async function verifyWebhook<T = unknown>(
  body: string | Uint8Array,
  headers: WebhookHeaders,
  secret: string,
  options: VerifyWebhookOptions = {},
): Promise<T> {
  const { toleranceSeconds = DEFAULT_TOLERANCE_SECONDS, now = Date.now } = options;
  if (typeof body !== 'string' && !(body instanceof Uint8Array)) {
    throw new TypeError(
      'verifyWebhook: body must be the raw request body, a string or a Uint8Array (not parsed JSON)',
    );
  }
  if (typeof toleranceSeconds !== 'number' || !(toleranceSeconds >= 0)) {
    throw new TypeError('verifyWebhook: option toleranceSeconds must be a number >= 0');
  }
  // Read before anything: a `now` that gives no number (NaN, a string) would pass every timestamp.
  const nowMs = typeof now === 'function' ? now() : undefined;
  if (typeof nowMs !== 'number' || !Number.isFinite(nowMs)) {
    throw new TypeError(
      'verifyWebhook: option now must be a function returning ms since the epoch',
    );
  }
  if (typeof headers !== 'object' || headers === null) {
    throw new TypeError(
      'verifyWebhook: headers must be the request headers (an object or Headers)',
    );
  }
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) {
    throw new TypeError('verifyWebhook: needs WebCrypto (crypto.subtle; in a browser, HTTPS)');
  }
  const key = await subtle.importKey(
    'raw',
    decodeSecret(secret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );

  const id = requiredHeader(headers, 'webhook-id');
  const timestamp = requiredHeader(headers, 'webhook-timestamp');
  const signatures = parseSignatures(requiredHeader(headers, 'webhook-signature'));
  checkTimestamp(timestamp, toleranceSeconds, nowMs);

  // [spec] "The content to be signed is therefore: `{msg_id}.{timestamp}.{payload}`."
  const bodyBytes = typeof body === 'string' ? encoder.encode(body) : body;
  const prefix = encoder.encode(`${id}.${timestamp}.`);
  const signedContent = new Uint8Array(prefix.length + bodyBytes.length);
  signedContent.set(prefix);
  signedContent.set(bodyBytes, prefix.length);
  const expected = new Uint8Array(await subtle.sign('HMAC', key, signedContent));

  // [spec] "Webhook consumers can try to verify each signature until one matches": a rotation
  // sends one per secret. Other versions (v1a: asymmetric) are not ours to check.
  const v1 = signatures.filter((signature) => signature.version === 'v1');
  if (!v1.some((signature) => constantTimeEqual(signature.bytes, expected))) {
    fail(
      'NO_MATCHING_SIGNATURE',
      v1.length === 0
        ? 'webhook-signature has no v1 signature'
        : 'No v1 signature in webhook-signature matches the body and secret',
    );
  }

  try {
    return JSON.parse(new TextDecoder().decode(bodyBytes)) as T;
  } catch (error) {
    return fail('INVALID_PAYLOAD', 'The webhook body is signed but is not JSON', error);
  }
}

/** [spec] Secrets are "base64 encoded, prefixed with `whsec_`"; the key is the decoded bytes. */
function decodeSecret(secret: string): Uint8Array<ArrayBuffer> {
  const key =
    typeof secret === 'string'
      ? decodeBase64(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret)
      : undefined;
  if (!key?.length) {
    throw new TypeError('verifyWebhook: secret must be `whsec_` followed by base64');
  }
  return key;
}

function decodeBase64(text: string): Uint8Array<ArrayBuffer> | undefined {
  try {
    return Uint8Array.from(atob(text), (char) => char.charCodeAt(0));
  } catch {
    return undefined;
  }
}

const isHeadersLike = (headers: WebhookHeaders): headers is HeadersLike =>
  typeof headers.get === 'function';

/** The header's value, whatever the case of its name; `MISSING_HEADER` when absent or empty. */
function requiredHeader(headers: WebhookHeaders, name: string): string {
  let value: string | string[] | null | undefined;
  if (isHeadersLike(headers)) {
    value = headers.get(name);
  } else {
    const key = Object.keys(headers).find((key) => key.toLowerCase() === name);
    value = key === undefined ? undefined : headers[key];
  }
  const text = Array.isArray(value) ? value.join(', ') : value;
  if (text !== undefined && text !== null && typeof text !== 'string') {
    fail('MALFORMED_HEADER', `${name} is not text`);
  }
  return text || fail('MISSING_HEADER', `Missing ${name} header`);
}

/**
 * [spec] "`webhook-timestamp`: integer unix timestamp (seconds since epoch)", checked "within some
 * allowable tolerance of the current timestamp to prevent replay attacks".
 */
function checkTimestamp(timestamp: string, toleranceSeconds: number, nowMs: number): void {
  if (!/^\d{1,15}$/.test(timestamp)) {
    fail('MALFORMED_HEADER', `webhook-timestamp is not whole seconds: ${timestamp.slice(0, 40)}`);
  }
  const ageSeconds = Math.floor(nowMs / 1000) - Number(timestamp);
  if (ageSeconds > toleranceSeconds) {
    fail('TIMESTAMP_TOO_OLD', `webhook-timestamp is ${ageSeconds} s old`);
  }
  if (-ageSeconds > toleranceSeconds) {
    fail('TIMESTAMP_TOO_NEW', `webhook-timestamp is ${-ageSeconds} s in the future`);
  }
}

interface Signature {
  version: string;
  bytes: Uint8Array;
}

/**
 * [spec] "The signature header is a space delimited list of signatures", each a version, a comma
 * and the base64 signature (`v1,K5oZfzN9…`). `MALFORMED_HEADER` when not one entry has that form.
 */
function parseSignatures(header: string): Signature[] {
  const signatures: Signature[] = [];
  for (const entry of header.split(' ')) {
    const [, version, base64] = SIGNATURE.exec(entry) ?? [];
    const bytes = version && base64 ? decodeBase64(base64) : undefined;
    if (version && bytes) signatures.push({ version, bytes });
  }
  if (signatures.length === 0) {
    fail('MALFORMED_HEADER', 'webhook-signature holds no `<version>,<base64>` signature');
  }
  return signatures;
}

/**
 * [spec] "use a constant time comparison function to compare the calculated with the expected
 * signature": the time taken depends on the lengths alone, which are public.
 */
function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let index = 0; index < a.length; index++) difference |= a[index]! ^ b[index]!;
  return difference === 0;
}
