import { type ClientKey } from '../domain/client.js';
import { type Job } from '../domain/job.js';

/** Injection token of the event fan-out: in-memory now, across instances (Redis) later. */
export const JOB_EVENTS = Symbol('JobEvents');

/** One change of one job, at its place in its client's event sequence. */
export interface JobEvent {
  /**
   * Opaque, growing along the client's sequence: what the stream sends as `id:`. Per client, so it
   * says nothing about other clients' activity (issue 18).
   */
  id: string;
  clientId: ClientKey;
  /** The job as this event left it: its `eventId` is this event's `id`. */
  job: Job;
}

export type JobEventListener = (event: JobEvent) => void;

/** Fans job changes out to the subscribers of the job's client, and remembers recent ones for resume. */
export interface JobEvents {
  /** Logs and fans out a change; the event's job carries the event's id as its `eventId`. */
  publish(clientId: ClientKey, job: Job): Promise<JobEvent>;
  /**
   * Delivers every later event of this client's jobs, in order. Returns the unsubscribe function.
   * `lost`: the client's events may have been lost (Redis came back without its data, or older):
   * the subscriber starts over (a stream ends, so that its client reconnects to a snapshot).
   */
  subscribe(clientId: ClientKey, listener: JobEventListener, lost?: () => void): () => void;
  /**
   * The client's events after `afterId`, oldest first, at most `limit` of them (all when absent);
   * undefined when `afterId` cannot be resumed from (some later event of the client is no longer
   * kept, or it is unknown or malformed): the caller sends a snapshot instead.
   */
  replay(clientId: ClientKey, afterId: string, limit?: number): Promise<JobEvent[] | undefined>;
  /** The id of the client's latest event: the position a snapshot taken now stands for. */
  head(clientId: ClientKey): Promise<string>;
  /** Live subscriptions, for health and leak checks. */
  subscriptionCount(): number;
}
