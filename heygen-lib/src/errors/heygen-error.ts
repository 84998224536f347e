/** The stable machine code of every {@link HeyGenError}. */
export type HeyGenErrorCode =
  | 'SSE_ERROR'
  | 'JOB_NOT_FOUND'
  | 'MESSAGE_PARSE'
  | 'LISTENER_NOT_FOUND'
  | 'JOB_FAILED'
  | 'TIMEOUT'
  | 'ABORTED'
  | 'HTTP_ERROR'
  | 'NETWORK_ERROR';

/** The base class of every error the library raises; branch on `code`. */
export class HeyGenError extends Error {
  /** Always `'HeyGenError'`, so {@link isHeyGenError} recognizes it from another copy of the library. */
  override name = 'HeyGenError';

  /**
   * @param code - stable machine code
   * @param message - for humans
   * @param cause - the underlying error, if any
   */
  constructor(
    readonly code: HeyGenErrorCode,
    message: string,
    cause?: unknown,
  ) {
    super(message, { cause });
  }
}

const NAMES = /^(HeyGen|SSE|Job\w+|MessageParse|Listener\w+|Timeout|Abort|Http)Error$/;

/**
 * Whether `value` is a {@link HeyGenError}: by `instanceof`, or by name and string code (an error
 * from another copy of the library).
 */
export const isHeyGenError = (value: unknown): value is HeyGenError =>
  value instanceof HeyGenError ||
  (value instanceof Error &&
    typeof (value as { code?: unknown }).code === 'string' &&
    NAMES.test(value.name));
