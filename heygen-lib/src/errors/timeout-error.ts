import { HeyGenError } from './heygen-error.js';

/** `waitForJob` ran out of its `timeout`. */
export class TimeoutError extends HeyGenError {
  override name = 'TimeoutError';

  /** @param jobId - the job waited for */
  constructor(readonly jobId: number) {
    super('TIMEOUT', `Job ${jobId}: timeout`);
  }
}
