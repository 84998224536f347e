import { HeyGenError } from './heygen-error.js';

/** `waitForJob` ran out of its `timeout`. */
export class TimeoutError extends HeyGenError {
  /** Always `'TimeoutError'`, so {@link isHeyGenError} recognizes it from another copy of the library. */
  override name = 'TimeoutError';

  /** @param jobId - the job waited for */
  constructor(readonly jobId: number) {
    super('TIMEOUT', `Job ${jobId}: timeout`);
  }
}
