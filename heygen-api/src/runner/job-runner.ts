import { type OptIns } from '../changes/job-changes.js';
import { type ClientKey } from '../domain/client.js';
import { type JobRecord, type JobTransition } from '../domain/job.js';

/** Injection token of the job runner: timers in this process now, a BullMQ worker later. */
export const JOB_RUNNER = Symbol('JobRunner');

/** Applies a transition to the job through the service (store, then events). */
export type ApplyTransition = (transition: JobTransition) => Promise<unknown>;

/**
 * What the creation tells the runner beside the record. A runner that reports its own changes
 * (BullMQ) passes the opt-ins on to JobChanges.
 */
export interface RunOptions extends OptIns {
  /**
   * `Cancel-After`: a job not finished at this time (ms since the epoch) is cancelled with the
   * reason DEADLINE_PASSED, and that ends the work.
   */
  cancelAt?: number;
}

/** Does the work of a job and reports each step through `apply`. */
export interface JobRunner {
  /** Starts work on the job; idempotent: a job already being worked on is left as it is. */
  run(record: JobRecord, apply: ApplyTransition, options?: RunOptions): void;
  /** Stops working on a job (it was cancelled); nothing more is reported for it. */
  stop(clientId: ClientKey, id: number): void;
}
