/** Where a job is in its life. It only moves forward: pending → running → completed | failed | cancelled. */
export type JobStatus = 'pending' | 'running' | 'completed' | 'failed' | 'cancelled';

export const FINISHED_STATUSES: ReadonlySet<JobStatus> = new Set([
  'completed',
  'failed',
  'cancelled',
]);

export interface JobError {
  code: string;
  message: string;
}

/** The job as clients see it (docs/protocol.md, "The job object"). */
export interface Job {
  id: number;
  status: JobStatus;
  progress: number;
  /** Grows by one with every change, so clients can order and de-duplicate copies of a job. */
  revision: number;
  duration: number;
  createdAt: string;
  updatedAt: string;
  startedAt?: string;
  finishedAt?: string;
  expectedAt: string;
  error?: JobError;
}

/** What the server keeps about a job: the public job plus who owns it and how to simulate it. */
export interface JobRecord {
  job: Job;
  clientId: string;
  /** Simulation: end as failed instead of completed. */
  fail: boolean;
  idempotency?: { key: string; fingerprint: string };
}

export function isFinished(job: Job): boolean {
  return FINISHED_STATUSES.has(job.status);
}

export function newJob(id: number, duration: number, now: number): Job {
  const createdAt = new Date(now).toISOString();
  return {
    id,
    status: 'pending',
    progress: 0,
    revision: 1,
    duration,
    createdAt,
    updatedAt: createdAt,
    expectedAt: new Date(now + duration).toISOString(),
  };
}

/** A change to a job: returns the next job, or undefined when the change does not apply (state only moves forward). */
export type JobTransition = (job: Job, now: number) => Job | undefined;

function changed(job: Job, now: number, patch: Partial<Job>): Job {
  return { ...job, ...patch, revision: job.revision + 1, updatedAt: new Date(now).toISOString() };
}

export const start: JobTransition = (job, now) =>
  job.status === 'pending'
    ? changed(job, now, { status: 'running', startedAt: new Date(now).toISOString() })
    : undefined;

export function progressTo(progress: number): JobTransition {
  // 100 is reserved for completion; a running job that reports it early would look done.
  const next = Math.min(99, Math.max(0, Math.floor(progress)));
  return (job, now) =>
    job.status === 'running' && next > job.progress
      ? changed(job, now, { progress: next })
      : undefined;
}

export const complete: JobTransition = (job, now) =>
  job.status === 'running'
    ? changed(job, now, {
        status: 'completed',
        progress: 100,
        finishedAt: new Date(now).toISOString(),
      })
    : undefined;

export function fail(error: JobError): JobTransition {
  return (job, now) =>
    job.status === 'running'
      ? changed(job, now, { status: 'failed', error, finishedAt: new Date(now).toISOString() })
      : undefined;
}

export const cancel: JobTransition = (job, now) =>
  isFinished(job)
    ? undefined
    : changed(job, now, { status: 'cancelled', finishedAt: new Date(now).toISOString() });
