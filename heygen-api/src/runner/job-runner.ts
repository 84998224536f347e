import { type ClientKey } from '../domain/client.js';
import { type JobRecord, type JobTransition } from '../domain/job.js';

/** Injection token of the job runner: timers in this process now, a BullMQ worker later. */
export const JOB_RUNNER = Symbol('JobRunner');

/** Applies a transition to the job through the service (store, then events). */
export type ApplyTransition = (transition: JobTransition) => Promise<unknown>;

/** What the creation tells the runner beside the record. */
export interface RunOptions {
  /**
   * `Cancel-After`: a job not finished at this time (ms since the epoch) is cancelled with the
   * reason DEADLINE_PASSED, and that ends the work.
   */
  cancelAt?: number;
  /**
   * Whether the job was created with a webhook; absent when unknown. A runner that reports its own
   * changes (BullMQ) skips the webhook lookup of each change for a job known to have none.
   */
  webhook?: boolean;
}

/** Does the work of a job and reports each step through `apply`. */
export interface JobRunner {
  /** Starts work on the job; idempotent: a job already being worked on is left as it is. */
  run(record: JobRecord, apply: ApplyTransition, options?: RunOptions): void;
  /** Stops working on a job (it was cancelled); nothing more is reported for it. */
  stop(clientId: ClientKey, id: number): void;
}
