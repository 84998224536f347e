import { HeyGenError } from './heygen-error.js';

/** `stop(id)` was called for a job nobody listens to. */
export class ListenerNotFoundError extends HeyGenError {
  /** Always `'ListenerNotFoundError'`, so {@link isHeyGenError} recognizes it from another copy of the library. */
  override name = 'ListenerNotFoundError';

  /** @param jobId - the id passed to `stop` */
  constructor(readonly jobId: number) {
    super('LISTENER_NOT_FOUND', `Job ${jobId}: no listener`);
  }
}
