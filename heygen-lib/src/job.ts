// The job as the protocol describes it: the one domain type, imported by every other room.

/** Where a job is in its life: `pending → running → completed | failed | cancelled`. */
export type JobStatus = 'pending' | 'running' | 'completed' | 'failed' | 'cancelled';

/** A job as the server reports it (docs/protocol.md, "The job object"). */
export interface Job {
  /** Unique positive integer, assigned in increasing order. */
  id: number;
  /** Current state; only moves forward. */
  status: JobStatus;
  /** 0–100; `100` once completed. */
  progress: number;
  /** Grows by one with every change: of two copies, the higher revision is the newer. */
  revision: number;
  /** How long the job runs, in ms. */
  duration: number;
  /** ISO 8601 creation time. */
  createdAt: string;
  /** ISO 8601 time of the last change. */
  updatedAt: string;
  /** ISO 8601 start time, once running. */
  startedAt?: string;
  /** ISO 8601 end time, once finished. */
  finishedAt?: string;
  /** ISO 8601 time the job is expected to finish. */
  expectedAt: string;
  /** Why it failed, only when `status` is `failed`. */
  error?: {
    /** Stable machine code of the failure. */
    code: string;
    /** What went wrong, for humans. */
    message: string;
  };
}
