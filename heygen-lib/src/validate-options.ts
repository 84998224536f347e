import {
  HeyGenStatusListenerMode,
  type HeyGenAPIOptions,
  type WaitForJobOptions,
} from './types.js';

/** [RFC 9562] What the server accepts as a client id. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** An absolute http(s) URL, or in a page one relative to it: a string (a number would resolve). */
const isHttpUrl = (value: unknown): boolean => {
  try {
    const base = (globalThis as { location?: { href: string } }).location?.href;
    return typeof value === 'string' && /^https?:$/.test(new URL(value, base).protocol);
  } catch {
    return false;
  }
};

const invalid = (option: string, expected: string): never => {
  throw new TypeError(`HeyGenAPI: option ${option} must be ${expected}`);
};

/** Throws unless `options[option]` is undefined or passes `ok`. */
export const check = (
  options: object,
  option: string,
  ok: (value: unknown) => boolean,
  expected: string,
): void => {
  const value = (options as Record<string, unknown>)[option];
  if (value !== undefined && !ok(value)) invalid(option, expected);
};

export const isFunction = (value: unknown): boolean => typeof value === 'function';

/**
 * Checks a call's own options (`timeout`, `signal`, `onProgress`): from plain JavaScript a
 * `timeout` of `'5000'` would otherwise time out at once.
 * @throws TypeError naming the option of the wrong kind
 */
export const validateCallOptions = (options: WaitForJobOptions): void => {
  check(options, 'timeout', (value) => +value! >= 0 && typeof value == 'number', 'a number of ms');
  check(
    options,
    'signal',
    (value) => typeof (Object(value) as Partial<AbortSignal>).addEventListener == 'function',
    'an AbortSignal',
  );
  check(options, 'onProgress', isFunction, 'a function');
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
  const isCount = (value: unknown): boolean => Number.isSafeInteger(value) && +value! >= 0;
  const isMs = (value: unknown): boolean =>
    typeof value === 'number' && value >= 0 && value < 2 ** 31;
  if (!isHttpUrl(options?.url)) invalid('url', "the server's http(s) URL");
  validateMode(options.mode);
  check(options, 'pollInterval', isMs, 'a number of ms');
  // 0 would retry without a pause, for as long as a job is watched: a request storm.
  check(options, 'retryDelay', (value) => isMs(value) && +value! >= 1, 'a number of ms ≥ 1');
  check(options, 'maxRetries', isCount, 'a whole number ≥ 0');
  check(options, 'clientId', (value) => typeof value === 'string' && UUID.test(value), 'a UUID');
  check(options, 'apiKey', (value) => typeof value === 'string' && !!value, 'a non-empty string');
  check(options, 'fallback', (value) => typeof value === 'boolean', 'true or false');
  check(
    options,
    'wait',
    (value) => typeof value === 'boolean' || isCount(value),
    'a boolean or a whole number ≥ 0',
  );
  check(
    options,
    'logging',
    (value) => typeof value === 'boolean' || isFunction(value),
    'a boolean or a function',
  );
  check(
    options,
    'headers',
    (value) => isFunction(value) || (!!value && typeof value === 'object' && !Array.isArray(value)),
    'an object or a function',
  );
  check(
    options,
    'EventSource',
    (value) => value === null || isFunction(value),
    'a constructor or null',
  );
  for (const option of ['fetch', 'onError', 'onStateChange'])
    check(options, option, isFunction, 'a function');
};
