import { HeyGenError } from './heygen-error.js';

/** The job does not exist for this client (never created, someone else's, or forgotten). */
export class JobNotFoundError extends HeyGenError {
  /** The `name` of its errors, also from another copy of the library (see HeyGenError). */
  static override readonly errorName: string = 'JobNotFoundError';

  /** @param jobId - the id asked for */
  constructor(readonly jobId: number) {
    super('JOB_NOT_FOUND', `Job ${jobId} not found`);
  }
}
