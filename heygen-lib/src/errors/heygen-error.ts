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
  | 'NETWORK_ERROR'
  | 'WEBHOOK_VERIFICATION';

/**
 * The base class of every error the library raises; branch on `code`. `instanceof` this class or
 * a subclass also holds for an error of another copy of the library (`heygen-lib/tabs` bundles
 * its own, and an app may hold two versions), known by its `name` and `code`.
 */
export class HeyGenError extends Error {
  /** The `name` of this class's errors: how one from another copy of the library is known. */
  static readonly errorName: string = 'HeyGenError';

  /** The class's name (`'JobNotFoundError'`…), the same in every copy of the library. */
  override name = (this.constructor as typeof HeyGenError).errorName;

  /**
   * `value instanceof` this class: an instance of it, or an error of another copy of the library
   * with this class's name and a code of it. A subclass an app defines knows only its own.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    // `this` is the class right of `instanceof`.
    return (
      Function.prototype[Symbol.hasInstance].call(this, value) ||
      (fromAnotherCopy(value) && (this === HeyGenError || value.name === this.errorName))
    );
  }

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

/** The codes each error class carries, by class name: how a copy from another bundle is known. */
const CODES = new Map<string, string[]>([
  ['SSEError', ['SSE_ERROR']],
  ['JobNotFoundError', ['JOB_NOT_FOUND']],
  ['MessageParseError', ['MESSAGE_PARSE']],
  ['ListenerNotFoundError', ['LISTENER_NOT_FOUND']],
  ['JobFailedError', ['JOB_FAILED']],
  ['TimeoutError', ['TIMEOUT']],
  ['AbortError', ['ABORTED']],
  ['HttpError', ['HTTP_ERROR', 'NETWORK_ERROR']],
  ['WebhookVerificationError', ['WEBHOOK_VERIFICATION']],
]);
CODES.set('HeyGenError', [...CODES.values()].flat());

/**
 * An error of another copy of the library: a name and code that belong together. Platform errors
 * that share a name, such as Node's `AbortError` with code `ABORT_ERR`, are not.
 */
const fromAnotherCopy = (value: unknown): value is HeyGenError =>
  value instanceof Error &&
  !!CODES.get(value.name)?.includes((value as { code?: unknown }).code as string);

/** Whether `value` is a {@link HeyGenError}, of this copy of the library or another. */
export const isHeyGenError = (value: unknown): value is HeyGenError => value instanceof HeyGenError;
