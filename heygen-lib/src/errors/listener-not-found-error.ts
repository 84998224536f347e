import { HeyGenError } from './heygen-error.js';

/** `stop(id)` was called for a job nobody listens to. */
export class ListenerNotFoundError extends HeyGenError {
  /** The `name` of its errors, also from another copy of the library (see HeyGenError). */
  static override readonly errorName: string = 'ListenerNotFoundError';

  /** @param jobId - the id passed to `stop` */
  constructor(readonly jobId: number) {
    super('LISTENER_NOT_FOUND', `Job ${jobId}: no listener`);
  }
}
