import { HeyGenError } from './heygen-error.js';

/**
 * The server answered with an error (`code` `HTTP_ERROR`, with `status` and the server's own
 * `serverCode`), or could not be reached at all (`code` `NETWORK_ERROR`, `status` 0).
 */
export class HttpError extends HeyGenError {
  /** The `name` of its errors, also from another copy of the library (see HeyGenError). */
  static override readonly errorName: string = 'HttpError';

  /**
   * @param status - HTTP status, 0 when no answer came
   * @param serverCode - the error body's `code`, e.g. `TOO_MANY_JOBS`
   * @param retryAfterMs - how long the server asked to wait (`Retry-After`), if it did
   */
  constructor(
    readonly status: number,
    message: string,
    readonly serverCode?: string,
    cause?: unknown,
    readonly retryAfterMs?: number,
  ) {
    super(status ? 'HTTP_ERROR' : 'NETWORK_ERROR', message, cause);
  }
}
