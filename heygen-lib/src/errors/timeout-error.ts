import { HeyGenError } from './heygen-error.js';

/** A call or a `waitForJob` ran out of its `timeout`. */
export class TimeoutError extends HeyGenError {
  /** The `name` of its errors, also from another copy of the library (see HeyGenError). */
  static override readonly errorName: string = 'TimeoutError';

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
