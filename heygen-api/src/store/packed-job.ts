import { type ClientKey } from '../domain/client.js';
import {
  FINISHED_STATUSES,
  type Job,
  type JobError,
  type JobRecord,
  type JobStatus,
} from '../domain/job.js';

const NOT_YET = -1;
/** `eventAfterId` before any event: a small integer (a double field is boxed), never a real gap. */
const NO_EVENT = -1_073_741_823;

/** What a packed job shares with every other job of its client (one copy of its key). */
export interface PackedClient {
  /** A flat copy: the key as parsed is a slice of its request's URL, and would keep it alive. */
  readonly key: ClientKey;
}

/**
 * A job record as the in-memory store keeps it (issue 10): one object of one shape, times as
 * numbers instead of five ISO strings, `expectedAt` derived from `createdAt + duration`, the
 * client shared. Times are kept as ms offsets, small integers that V8 stores in the object itself
 * rather than as boxed doubles: the creation is counted back from the id, which comes from the same
 * clock (domain/sequence.ts), the others forward from the creation. About 200 bytes of heap with
 * its indexes, where the record as clients see it (`JobRecord`) takes about 800.
 *
 * While the job is unfinished it also holds its current `Job`, which is what its frequent changes
 * read and replace (unpacking and packing at every progress step cost 8 % of the CPU of a create
 * flood); a finished job, which is only kept, drops it. Readers get a record of their own from
 * {@link unpack}, and a `Job` is never changed once made, so the store may change a packed job in
 * place: nobody else holds it.
 */
export class PackedJob {
  status: JobStatus = 'pending';
  progress = 0;
  revision = 1;
  /** ms after `createdAt`; NOT_YET (-1) until the job starts or finishes. */
  updatedAfter = 0;
  startedAfter = NOT_YET;
  finishedAfter = NOT_YET;
  error: JobError | undefined = undefined;
  /**
   * `eventId - id` (issue 19): both come from the client's clocks, so the difference is a small
   * integer kept in the object, where the id itself would be a boxed double. NO_EVENT: none yet.
   */
  eventAfterId = NO_EVENT;
  /** The job as it is now, while unfinished; undefined once finished. */
  current: Job | undefined = undefined;

  /** `id - createdAt`, ms. */
  private readonly createdBeforeId: number;

  constructor(
    readonly client: PackedClient,
    readonly id: number,
    readonly duration: number,
    createdAt: number,
    readonly fail: boolean,
    readonly idempotency: JobRecord['idempotency'],
  ) {
    this.createdBeforeId = id - createdAt;
  }

  /** ms since the epoch. */
  get createdAt(): number {
    return this.id - this.createdBeforeId;
  }

  /** When it finished, ms since the epoch; undefined while unfinished. */
  get finishedAt(): number | undefined {
    return this.finishedAfter === NOT_YET ? undefined : this.createdAt + this.finishedAfter;
  }
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** Packs a new record of the client. */
export function pack(record: JobRecord, client: PackedClient): PackedJob {
  const { job } = record;
  const packed = new PackedJob(
    client,
    job.id,
    job.duration,
    Date.parse(job.createdAt),
    record.fail,
    record.idempotency,
  );
  repack(packed, job);
  return packed;
}

/**
 * Records a change: an unfinished job is kept as it is, a finished one is packed (status,
 * progress, revision, times, error) and its `Job` let go.
 */
export function repack(packed: PackedJob, job: Job): void {
  packed.status = job.status;
  if (!FINISHED_STATUSES.has(job.status)) {
    packed.current = job;
    return;
  }
  packed.current = undefined;
  packFields(packed, job);
}

function packFields(packed: PackedJob, job: Job): void {
  const { createdAt } = packed;
  const after = (time: string | undefined): number =>
    time === undefined ? NOT_YET : Date.parse(time) - createdAt;
  packed.status = job.status;
  packed.progress = job.progress;
  packed.revision = job.revision;
  packed.updatedAfter = after(job.updatedAt);
  packed.startedAfter = after(job.startedAt);
  packed.finishedAfter = after(job.finishedAt);
  packed.error = job.error;
  packed.eventAfterId = job.eventId === undefined ? NO_EVENT : eventAfter(packed, job.eventId);
}

/**
 * `eventId - id` as a small integer: the difference of two numbers parsed from strings is a double
 * to V8, which would box it (16 B more per job); `| 0` makes it a small integer whenever it fits.
 */
function eventAfter(packed: PackedJob, eventId: string): number {
  const gap = Number(eventId) - packed.id;
  return (gap | 0) === gap ? gap | 0 : gap;
}

/**
 * Records the id of the event that told the packed job's current state (the memory driver logs a
 * change right after storing it); an event of an older revision is ignored.
 */
export function stampEvent(packed: PackedJob, job: Job): void {
  if (packed.current) {
    if (packed.current.revision === job.revision) packed.current = job;
    return;
  }
  if (packed.revision === job.revision && job.eventId !== undefined) {
    packed.eventAfterId = eventAfter(packed, job.eventId);
  }
}

/** The record as the rest of the server sees it: a new object, ISO times, no absent key present. */
export function unpack(packed: PackedJob): JobRecord {
  const job = packed.current ?? unpackJob(packed);
  const record: JobRecord = { job, clientId: packed.client.key, fail: packed.fail };
  if (packed.idempotency) record.idempotency = packed.idempotency;
  return record;
}

function unpackJob(packed: PackedJob): Job {
  const { createdAt } = packed;
  const job: Job = {
    id: packed.id,
    status: packed.status,
    progress: packed.progress,
    revision: packed.revision,
    duration: packed.duration,
    createdAt: iso(createdAt),
    updatedAt: iso(createdAt + packed.updatedAfter),
    expectedAt: iso(createdAt + packed.duration),
  };
  if (packed.startedAfter !== NOT_YET) job.startedAt = iso(createdAt + packed.startedAfter);
  if (packed.finishedAfter !== NOT_YET) job.finishedAt = iso(createdAt + packed.finishedAfter);
  if (packed.error) job.error = packed.error;
  if (packed.eventAfterId !== NO_EVENT) job.eventId = String(packed.id + packed.eventAfterId);
  return job;
}
