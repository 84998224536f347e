import { HeyGenError } from './heygen-error.js';

/** A wait was aborted by its signal, or the instance was disposed. */
export class AbortError extends HeyGenError {
  override name = 'AbortError';

  /** @param reason - the signal's reason, if any */
  constructor(message: string, reason?: unknown) {
    super('ABORTED', message, reason);
  }
}
