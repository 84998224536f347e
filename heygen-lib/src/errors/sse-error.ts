import { HeyGenError } from './heygen-error.js';

/** The event stream broke and could not be restored (and fallback is off). */
export class SSEError extends HeyGenError {
  /** The `name` of its errors, also from another copy of the library (see HeyGenError). */
  static override readonly errorName: string = 'SSEError';

  /**
   * @param message - what broke
   * @param status - the HTTP status of a refused stream, if any
   */
  constructor(
    message: string,
    readonly status?: number,
    cause?: unknown,
  ) {
    super('SSE_ERROR', message, cause);
  }
}
