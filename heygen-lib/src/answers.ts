import { MessageParseError } from './errors/message-parse-error.js';
import type { Job, JobStatus } from './job.js';

const STATUSES: readonly JobStatus[] = ['pending', 'running', 'completed', 'failed', 'cancelled'];

/** The batch answer of `GET /status?ids=` (docs/protocol.md). */
export interface Batch {
  jobs: Job[];
  missing: number[];
}

/**
 * [protocol] A job id: a positive integer of at most 15 digits. A longer one is a `400` for the
 * whole request it is in, which a shared poll of several jobs (or tabs) must never send.
 */
export const isId = (value: unknown): value is number =>
  Number.isSafeInteger(value) && +value! > 0 && +value! < 1e15;

/**
 * The most ids one `GET /status?ids=` lists. [protocol] The server takes up to `MAX_BATCH_IDS`
 * (1000), but 500 ids of up to 15 digits keep the request line under 8 KiB, the default line limit
 * of nginx and Apache: a proxy in the way answered 414 to every poll of a crowded client.
 */
export const MAX_IDS_PER_REQUEST = 500;

/**
 * Whether `value` has what the library relies on of a job: id, status, revision, finishedAt (a
 * string exactly when the status is final: waits go by the status, listeners by finishedAt). Other
 * fields pass through unchecked: `eventId` (issue 19) among them, absent from older servers.
 */
const isJob = (value: unknown): value is Job => {
  const job = value as Partial<Job> | null;
  return (
    typeof job === 'object' &&
    job !== null &&
    isId(job.id) &&
    STATUSES.includes(job.status!) &&
    Number.isSafeInteger(job.revision) &&
    (job.status === 'pending' || job.status === 'running'
      ? job.finishedAt === undefined
      : typeof job.finishedAt === 'string' && job.finishedAt !== '')
  );
};

/** Rejects an answer of the wrong shape the way it rejects one that is not JSON. */
const wrongShape = (data: unknown): MessageParseError =>
  new MessageParseError(String(JSON.stringify(data)).slice(0, 200));

/** `data` as a job, or a MessageParseError: a server's answer is checked, never trusted. */
export const asJob = (data: unknown): Job => {
  if (!isJob(data)) throw wrongShape(data);
  return data;
};

/** `data` as a list of jobs (`{ jobs }` of a batch or a snapshot), or a MessageParseError. */
export const asJobs = (data: unknown): Job[] => {
  const { jobs } = (data ?? {}) as { jobs?: unknown };
  if (!Array.isArray(jobs) || !jobs.every(isJob)) throw wrongShape(data);
  return jobs;
};

/** `data` as a batch answer, or a MessageParseError. */
export const asBatch = (data: unknown): Batch => {
  const { missing } = (data ?? {}) as { missing?: unknown };
  if (!Array.isArray(missing) || !missing.every(isId)) throw wrongShape(data);
  return { jobs: asJobs(data), missing };
};
