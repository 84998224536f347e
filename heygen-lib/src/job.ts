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
  /**
   * Why it failed (`status` `failed`), or why the server cancelled it (`status` `cancelled`, code
   * `DEADLINE`: its `Cancel-After` passed; `UNWATCHED`: nothing watched it for its
   * `cancelWhenUnwatched` time). A job its client cancelled has none.
   */
  error?: {
    /** Stable machine code of the failure. */
    code: string;
    /** What went wrong, for humans. */
    message: string;
  };
  /**
   * The id of the latest event that produced this state: the same id as the stream's `id:` and a
   * webhook's `webhook-id`, and the cursor of `GET /status?after=`. Opaque. Absent from servers
   * older than issue 19.
   */
  eventId?: string;
}
