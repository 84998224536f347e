import { type Job } from '../domain/job.js';

/** Injection token of the event fan-out: in-memory now, across instances (Redis) later. */
export const JOB_EVENTS = Symbol('JobEvents');

/** One change of one job, at its place in the server's event sequence. */
export interface JobEvent {
  /** Opaque, growing along the sequence: what the stream sends as `id:`. */
  id: string;
  clientId: string;
  job: Job;
}

export type JobEventListener = (event: JobEvent) => void;

/** Fans job changes out to the subscribers of the job's client, and remembers recent ones for resume. */
export interface JobEvents {
  publish(clientId: string, job: Job): Promise<JobEvent>;
  /** Delivers every later event of this client's jobs, in order. Returns the unsubscribe function. */
  subscribe(clientId: string, listener: JobEventListener): () => void;
  /**
   * The client's events after `afterId`, oldest first; undefined when `afterId` cannot be resumed
   * from (older than the replay log, unknown or malformed): the caller sends a snapshot instead.
   */
  replay(clientId: string, afterId: string): Promise<JobEvent[] | undefined>;
  /** The id of the latest event: the position a snapshot taken now stands for. */
  head(): Promise<string>;
  /** Live subscriptions, for health and leak checks. */
  subscriptionCount(): number;
}
