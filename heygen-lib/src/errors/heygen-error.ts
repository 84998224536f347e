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
 * Whether `value` is a {@link HeyGenError}: by `instanceof`, or by a name and code that belong
 * together (an error from another copy of the library). Platform errors that share a name, such
 * as Node's `AbortError` with code `ABORT_ERR`, are not.
 */
export const isHeyGenError = (value: unknown): value is HeyGenError =>
  value instanceof HeyGenError ||
  (value instanceof Error &&
    !!CODES.get(value.name)?.includes((value as { code?: unknown }).code as string));
