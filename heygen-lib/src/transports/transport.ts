import type { HeyGenError } from '../errors/heygen-error.js';
import type { Http } from '../http.js';
import type { Job } from '../job.js';
import type { ConnectionState, TransportKind } from '../types.js';

/**
 * A way to learn job updates. It only turns the watched ids into updates: listeners, dedupe and
 * the choice of transport live elsewhere (listener-registry.ts, select.ts).
 */
export interface Transport {
  /** Begin working (connect, or poll at once). */
  start: () => void;
  /** The set of watched ids grew. */
  wake: () => void;
  /** Stop for good and free every timer and connection; reports nothing after this. */
  close: () => void;
}

/** The states a transport reports; `idle` belongs to the instance, before any transport. */
export type TransportState = Exclude<ConnectionState, { state: 'idle' }>;

/** Hears a transport's state changes; it may close the transport from inside the call. */
export type StateListener = (state: TransportState) => void;

/** What a transport may use and tell; shared by every transport of one HeyGenAPI. */
export interface TransportHost {
  readonly http: Http;
  /** Shared by every stream of the instance, so a new stream resumes where the last one stopped. */
  lastEventId?: string;
  /** The server's heartbeat interval, learned from `connected`. */
  heartbeatMs: number;
  readonly retryDelay: number;
  readonly pollInterval: number;
  /** Watched ids whose job has not finished. */
  ids(): number[];
  /** When a job is due to finish, as far as the instance knows (epoch ms); now when it doesn't. */
  dueAt(id: number): number;
  /**
   * Within how many ms of a read polling must read a job again (`cancelWhenUnwatched`); none when
   * absent or Infinity. The tabs' leader knows it of its own tab's jobs only.
   */
  watchWithin?(id: number): number;
  /** A copy of a job; older or repeated revisions are dropped by the registry. */
  update: (job: Job) => void;
  /** The server does not know these ids. */
  missing(ids: number[]): void;
  /** A non-fatal error for these ids (a message that did not parse). */
  error(error: HeyGenError, ids: number[]): void;
  /** A stream's snapshot: every job the server keeps for this client. */
  snapshot(jobs: Job[]): void;
}

/** Creates one transport that gives up after `retries` failures in a row. */
export type TransportFactory = (retries: number, onState: StateListener) => Transport;

/**
 * The retry rule of every transport, after its `attempt`-th failure in a row: up to `retries`
 * it reports `connecting` (the caller retries unless the listener closed it meanwhile); past
 * that it closes the transport and reports `closed` with the error.
 */
export const reportFailure = (
  kind: TransportKind,
  retries: number,
  onState: StateListener,
  error: HeyGenError,
  attempt: number,
  close: () => void,
): void => {
  if (attempt > retries) {
    close();
    onState({ state: 'closed', error });
  } else onState({ state: 'connecting', transport: kind, attempt, error });
};
