import type { HeyGenError } from '../errors/heygen-error.js';
import type { Http } from '../http.js';
import type { Job } from '../job.js';
import type { TransportHost } from '../transports/transport.js';

/** Where the leader's shared transport delivers: the group (every tab), not one registry. */
export interface GroupHostHooks {
  /** Every unfinished id some tab of the group watches. */
  ids: () => number[];
  dueAt: (id: number) => number;
  /** This tab's jobs only: a follower's is read whenever the group's held poll lists it. */
  watchWithin: (id: number) => number;
  /** A job update, with the stream's last event id at that moment. */
  update: (job: Job, lastEventId: string | undefined) => void;
  missing: (ids: number[]) => void;
  error: (error: HeyGenError, ids: number[]) => void;
  snapshot: (jobs: Job[], lastEventId: string | undefined) => void;
}

/**
 * The host the leader's real transport runs on: the one transport of the group sees the union
 * of every tab's ids and reports to the whole group, with the stream's last event id beside
 * each update so that every follower can resume where the leader stopped.
 */
export const createGroupHost = (
  http: Http,
  timing: { retryDelay: number; pollInterval: number },
  lastEventId: string | undefined,
  hooks: GroupHostHooks,
): TransportHost => {
  const host: TransportHost = {
    http,
    heartbeatMs: 15_000,
    retryDelay: timing.retryDelay,
    pollInterval: timing.pollInterval,
    ids: hooks.ids,
    dueAt: hooks.dueAt,
    watchWithin: hooks.watchWithin,
    update: (job) => hooks.update(job, host.lastEventId),
    missing: hooks.missing,
    error: hooks.error,
    snapshot: (jobs) => hooks.snapshot(jobs, host.lastEventId),
  };
  // A new leader resumes with the last event id the group heard.
  if (lastEventId !== undefined) host.lastEventId = lastEventId;
  return host;
};
