import { type JobEvent } from '../events/job-events.js';

/**
 * Injection token of who else hears of every change the BullMQ runner makes (the webhooks, issue
 * 19). Declared here, not by the webhooks, so that runner/ does not import webhooks/, which
 * imports runner/'s MinHeap: folders import one way only.
 */
export const JOB_CHANGE_OBSERVER = Symbol('JobChangeObserver');

export interface JobChangeObserver {
  /**
   * Told a change once its event exists; settles once what it does with it survives this
   * instance (a webhook delivery queued in Redis). Never rejects; the same event told twice is
   * acted on once.
   */
  changed(event: JobEvent): Promise<void>;
}
