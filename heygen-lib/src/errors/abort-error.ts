import { HeyGenError } from './heygen-error.js';

/** A wait was aborted by its signal, or the instance was disposed. */
export class AbortError extends HeyGenError {
  /** The `name` of its errors, also from another copy of the library (see HeyGenError). */
  static override readonly errorName: string = 'AbortError';

  /** @param reason - the signal's reason, if any */
  constructor(message: string, reason?: unknown) {
    super('ABORTED', message, reason);
  }
}
