import { type Job, type JobRecord } from '../jobs/job.js';

/** Injection token of the job store: one implementation per driver (in-memory now, Redis later). */
export const JOB_STORE = Symbol('JobStore');

/** What a new job needs; the store assigns its id. */
export interface JobDraft {
  clientId: string;
  duration: number;
  fail: boolean;
  idempotency?: { key: string; fingerprint: string };
  now: number;
}

/**
 * Where jobs live. Every method is async so that a shared store (Redis) can implement it, and every
 * read-modify-write is one call, so that it can be made atomic there.
 */
export interface JobStore {
  /**
   * Creates a job, unless the draft's idempotency key was already used by the same client:
   * then returns that job with `created: false`.
   */
  create(draft: JobDraft): Promise<{ record: JobRecord; created: boolean }>;
  get(id: number): Promise<JobRecord | undefined>;
  /** The client's jobs, oldest first. */
  listByClient(clientId: string): Promise<JobRecord[]>;
  /** How many of the client's jobs have not finished. */
  countActive(clientId: string): Promise<number>;
  /**
   * Applies `change` to the job atomically. Returns the stored record when the change applied, or
   * undefined when the job is unknown or `change` declined (returned undefined).
   */
  update(id: number, change: (job: Job) => Job | undefined): Promise<JobRecord | undefined>;
}
