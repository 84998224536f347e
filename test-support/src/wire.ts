// The wire shapes of docs/protocol.md, written from the document rather than imported from the
// server or the library, so tests check the contract and not an implementation's idea of it.
// test/job-agreement.test-d.ts keeps the server's Job and the library's Job equal to this one.

export type JobStatus = 'pending' | 'running' | 'completed' | 'failed' | 'cancelled';

export interface Job {
  id: number;
  status: JobStatus;
  progress: number;
  revision: number;
  duration: number;
  createdAt: string;
  updatedAt: string;
  startedAt?: string;
  finishedAt?: string;
  expectedAt: string;
  error?: { code: string; message: string };
  /**
   * The id of the latest event that produced this state. Every job the server answers carries it;
   * optional here as in the library, whose Job must stay one shape with this one and accepts older
   * servers.
   */
  eventId?: string;
}

export interface Batch {
  jobs: Job[];
  missing: number[];
  /** A page of the list of all jobs (`limit`, `startingAfter`) only: more jobs follow. */
  more?: boolean;
}

/** `GET /status?after=` (docs/protocol.md, "Catching up over HTTP"). */
export interface CatchUp {
  events: { id: string; job: Job }[];
  more: boolean;
}

export interface ApiError {
  statusCode: number;
  error: string;
  code: string;
  message: string;
}

/** The statuses a job ends in: it changes no more. */
export const FINISHED: readonly JobStatus[] = ['completed', 'failed', 'cancelled'];

/** True once the job ended (completed, failed or cancelled): the one definition tests and tools share. */
export const isFinished = (job: Pick<Job, 'status'>): boolean => FINISHED.includes(job.status);

/** Lifecycle order: a job's status never moves to a smaller rank. */
export const STATUS_RANK: Readonly<Record<JobStatus, number>> = {
  pending: 0,
  running: 1,
  completed: 2,
  failed: 2,
  cancelled: 2,
};

/** An ISO 8601 UTC time with milliseconds, as the protocol's "Conventions" require. */
export const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
