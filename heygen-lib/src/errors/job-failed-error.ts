import type { Job } from '../job.js';
import { HeyGenError } from './heygen-error.js';

/** A waited-for job ended `failed` or `cancelled`; `job` is its final state. */
export class JobFailedError extends HeyGenError {
  /** The `name` of its errors, also from another copy of the library (see HeyGenError). */
  static override readonly errorName: string = 'JobFailedError';

  /** @param job - the job in its final state */
  constructor(readonly job: Job) {
    super('JOB_FAILED', `Job ${job.id} ${job.status}`);
  }
}
