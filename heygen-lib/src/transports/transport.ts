import type { HeyGenError } from '../errors/heygen-error.js';
import type { Http } from '../http.js';
import type { Job } from '../types.js';

/**
 * A way to learn job updates. It only turns the watched ids into updates: listeners, dedupe and
 * the choice of transport live in HeyGenAPI.
 */
export interface Transport {
  readonly kind: 'sse' | 'poll';
  /** Begin working (connect, or poll at once). */
  start(): void;
  /** The set of watched ids grew. */
  wake(): void;
  /** Stop for good and free every timer and connection. */
  close(): void;
}

/** What a transport may use and tell; implemented by HeyGenAPI. */
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
  /** A copy of a job; older or repeated revisions are dropped by the host. */
  update: (job: Job) => void;
  /** The server does not know these ids. */
  missing(ids: number[]): void;
  /** A non-fatal error for these ids (a message that did not parse). */
  error(error: HeyGenError, ids: number[]): void;
  /** The transport works (stream connected, or a poll answered). */
  up(transport: Transport): void;
  /** The transport failed for the `attempt`-th time in a row: `true` means retry. */
  down(transport: Transport, error: HeyGenError, attempt: number): boolean;
}
