import { HeyGenError } from './heygen-error.js';

/** A call or a `waitForJob` ran out of its `timeout`. */
export class TimeoutError extends HeyGenError {
  /** Always `'TimeoutError'`, so {@link isHeyGenError} recognizes it from another copy of the library. */
  override name = 'TimeoutError';

  /**
   * @param jobId - the job waited for or asked about; none for `createJob`
   * @param message - what timed out
   */
  constructor(
    readonly jobId?: number,
    message = `Job ${jobId}: timeout`,
  ) {
    super('TIMEOUT', message);
  }
}
