import { type ClientKey } from '../domain/client.js';
import { type Job, type JobRecord } from '../domain/job.js';
import { type JobEvent } from '../events/job-events.js';
import { type ListPage } from './list-page.js';

/** Injection token of the job store: one implementation per driver (in-memory now, Redis later). */
export const JOB_STORE = Symbol('JobStore');

/** The bounds a creation is checked against (docs/design.md, "Limits"). */
export interface JobLimits {
  /** Unfinished jobs of this client (MAX_ACTIVE_JOBS_PER_CLIENT). */
  activePerClient: number;
  /** Jobs kept for this client, finished ones included (MAX_JOBS_PER_CLIENT). */
  keptPerClient: number;
  /** Unfinished jobs of every client together (MAX_ACTIVE_JOBS). */
  active: number;
  /** Unfinished jobs of the draft's `address`, every client of it together (0 or absent: none). */
  activePerAddress?: number;
}

/** What a new job needs; the store assigns its id. */
export interface JobDraft {
  clientId: ClientKey;
  duration: number;
  fail: boolean;
  idempotency?: { key: string; fingerprint: string };
  /** `Cancel-After`'s deadline, ms since the epoch (see JobRecord.cancelAt). */
  cancelAt?: number;
  /** Where the creation came from, counted against `limits.activePerAddress` (JobRecord.address). */
  address?: string;
  now: number;
  limits: JobLimits;
}

/**
 * What a store that keeps the event log itself (redis) returns with a change: the change's event,
 * appended in the same atomic step as the change, so that no instance dying in between can leave a
 * change stored but never told (docs/design.md, "A change and its event: one script"). When it is
 * absent (memory), the caller publishes the change (JobEvents.publish); when present, it must not.
 */
export interface Logged {
  event?: JobEvent;
}

/**
 * Finished jobs a creation forgot before their retention ended, to make room: the client's oldest
 * (MAX_JOBS_PER_CLIENT) or the oldest of any client (MAX_RETAINED_JOBS). For the metrics.
 */
export interface Evicted {
  perClient: number;
  retained: number;
  /**
   * Pending webhook deliveries given up with the jobs MAX_RETAINED_JOBS evicted (redis driver: its
   * store forgets their webhooks; the memory driver's webhook state gives up its own at that cap).
   */
  webhooksGivenUp?: number;
}

/**
 * `created`: a new job (with its `created` event when the store logs it, see Logged, and what it
 * evicted); `existing`: the job this idempotency key already created (checked before the limits,
 * so a retry always gets its job back); `limit`: refused, `client` when the client has too many
 * unfinished jobs, `address` when the clients of its address together have, `server` when every
 * client together has.
 */
export type CreateResult =
  | ({ outcome: 'created'; record: JobRecord; evicted: Evicted } & Logged)
  | { outcome: 'existing'; record: JobRecord; event?: undefined }
  | {
      outcome: 'limit';
      limit: 'client' | 'address' | 'server';
      record?: undefined;
      event?: undefined;
    };

/**
 * Where jobs live. Every method is async so that a shared store (Redis) can implement it, and every
 * read-modify-write is one call, so that it can be made atomic there. Job ids are per client: a
 * job is named by its client and its id.
 */
export interface JobStore {
  /**
   * Creates a job, atomically with the idempotency and limit checks (see CreateResult). When the
   * client already keeps `limits.keptPerClient` jobs, its oldest finished job is forgotten first.
   */
  create(draft: JobDraft): Promise<CreateResult>;
  get(clientId: ClientKey, id: number): Promise<JobRecord | undefined>;
  /** The client's jobs, oldest first. */
  listByClient(clientId: ClientKey): Promise<JobRecord[]>;
  /** A page of them (ListPage), and whether more follow its last one. */
  listPage(clientId: ClientKey, page: ListPage): Promise<{ records: JobRecord[]; more: boolean }>;
  /**
   * Applies `change` to the job atomically. Returns the stored record (with its event when the store
   * logs it, see Logged) when the change applied, or undefined when the job is unknown or `change`
   * declined (returned undefined).
   */
  update(
    clientId: ClientKey,
    id: number,
    change: (job: Job) => Job | undefined,
  ): Promise<(JobRecord & Logged) | undefined>;
  /**
   * For a store that does not log its changes (memory): records the id of the event the caller
   * published for the job's current state (`event.job.eventId`), so that every later read carries
   * it (issue 19). An event of a state the job has already left is ignored. A store that logs its
   * changes stores the id with the change, and has no such method.
   */
  recordEvent?(event: JobEvent): Promise<void>;
  /**
   * For a store shared by instances (redis): up to `limit` jobs still pending `olderThanMs` after
   * their creation, each handed out once per `olderThanMs` (to one instance). A creation whose
   * answer was lost (Redis paused past the command timeout) made its job, but never handed it to the
   * runner: this is how one is found, and run.
   */
  stillPending?(olderThanMs: number, limit: number): Promise<{ clientId: ClientKey; id: number }[]>;
}
