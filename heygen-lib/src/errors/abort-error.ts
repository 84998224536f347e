import { HeyGenError } from './heygen-error.js';

/** A wait was aborted by its signal, or the instance was disposed. */
export class AbortError extends HeyGenError {
  /** Always `'AbortError'`, so {@link isHeyGenError} recognizes it from another copy of the library. */
  override name = 'AbortError';

  /** @param reason - the signal's reason, if any */
  constructor(message: string, reason?: unknown) {
    super('ABORTED', message, reason);
  }
}
