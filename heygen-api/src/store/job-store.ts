import { type Job, type JobRecord } from '../domain/job.js';

/** Injection token of the job store: one implementation per driver (in-memory now, Redis later). */
export const JOB_STORE = Symbol('JobStore');

/** What a new job needs; the store assigns its id. */
export interface JobDraft {
  clientId: string;
  duration: number;
  fail: boolean;
  idempotency?: { key: string; fingerprint: string };
  now: number;
  /** Refuse to create when the client already has this many unfinished jobs. */
  maxActive: number;
}

/**
 * `created`: a new job; `existing`: the job this idempotency key already created (checked before
 * the limit, so a retry always gets its job back); `limit`: the client has too many unfinished jobs.
 */
export type CreateResult =
  { outcome: 'created' | 'existing'; record: JobRecord } | { outcome: 'limit'; record?: undefined };

/**
 * Where jobs live. Every method is async so that a shared store (Redis) can implement it, and every
 * read-modify-write is one call, so that it can be made atomic there.
 */
export interface JobStore {
  /** Creates a job, atomically with the idempotency and limit checks (see CreateResult). */
  create(draft: JobDraft): Promise<CreateResult>;
  get(id: number): Promise<JobRecord | undefined>;
  /** The client's jobs, oldest first. */
  listByClient(clientId: string): Promise<JobRecord[]>;
  /**
   * Applies `change` to the job atomically. Returns the stored record when the change applied, or
   * undefined when the job is unknown or `change` declined (returned undefined).
   */
  update(id: number, change: (job: Job) => Job | undefined): Promise<JobRecord | undefined>;
}
