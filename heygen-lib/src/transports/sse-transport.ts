import { backoff } from '../backoff.js';
import { clampDelay, elapsedNow } from '../delay.js';
import { MessageParseError } from '../errors/message-parse-error.js';
import { SSEError } from '../errors/sse-error.js';
import { asJob, asJobs } from '../answers.js';
import {
  reportFailure,
  type StateListener,
  type Transport,
  type TransportHost,
} from './transport.js';

/**
 * The server sends `connected` at once, so silence past this means a buffering proxy or a dead
 * path; 10 s leaves room for slow mobile handshakes.
 */
export const CONNECTED_WITHIN_MS = 10_000;

/**
 * [protocol] The shortest heartbeat interval a server may announce (the server's own least
 * `HEARTBEAT_MS`): a smaller one (`1`) would fail a healthy stream between two of its events.
 */
const MIN_HEARTBEAT_MS = 50;

/**
 * The longest heartbeat interval a server may announce: 5 min. The watchdog waits 2.5 of them,
 * so a larger one (`1e12`) would leave a stalled stream, and an EventSource's buffer, for weeks.
 */
const MAX_HEARTBEAT_MS = 300_000;

/**
 * The longest event id kept to resume from. The server's ids are decimal numbers (20 digits at
 * most); a longer one would go in the query of every reconnect, which servers refuse (431).
 */
const MAX_EVENT_ID_LENGTH = 128;

/**
 * Bytes that never complete an event (a line that never ends, trickled in) keep a stream alive no
 * longer than this many heartbeats: past it, they are no sign of life, and the stream is failed.
 * Generous, so that a large snapshot on a slow link still arrives.
 */
const MAX_HEARTBEATS_WITHOUT_EVENT = 10;

/** What a stream connection reports to its SSE transport. */
export interface StreamHandlers {
  /** Bytes arrived (a sign of life). */
  data(bytes: number): void;
  /** One event; `id` is the last event id so far ('' when none). */
  event: (type: string, data: string, id: string) => void;
  /** The connection failed or ended; it will not report again. */
  fail(error: SSEError): void;
}

/** Opens one stream to `url`; returns the function that closes it. */
export type Connect = (url: string, on: StreamHandlers) => () => void;

/**
 * SSE: one stream for every job of the client. Reconnects with backoff and Last-Event-ID up to
 * `retries` failures in a row, and treats a missed heartbeat window, or no `connected` within
 * {@link CONNECTED_WITHIN_MS} of the open, as a disruption.
 */
export const createSseTransport = (
  host: TransportHost,
  connect: Connect,
  retries: number,
  onState: StateListener,
): Transport => {
  const { sse } = host.http.stats;
  /** Failures in a row; a stream that carried events for a heartbeat interval resets it. */
  let attempt = 0;
  /** When the current stream said `connected`; 0 when it has not. */
  let connectedAt: number | undefined;
  /** The current stream delivered an event a heartbeat interval or more after `connected`. */
  let proven = false;
  /** When the current stream's latest event came. */
  let lastEventAt = 0;
  let closed = false;
  let disconnect: (() => void) | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;

  /**
   * [protocol] No bytes for about two heartbeat intervals means the connection is gone. Until
   * `connected`, bytes do not count: the stream has {@link CONNECTED_WITHIN_MS} from its open.
   */
  const watch = (): void => {
    clearTimeout(timer);
    const heartbeatBound = 2.5 * host.heartbeatMs;
    timer = setTimeout(
      () =>
        fail(
          new SSEError(
            connectedAt !== undefined
              ? 'No heartbeat'
              : 'No connected event: is a proxy buffering the stream?',
          ),
        ),
      clampDelay(
        connectedAt !== undefined ? heartbeatBound : Math.min(CONNECTED_WITHIN_MS, heartbeatBound),
      ),
    );
  };

  const open = (): void => {
    sse.streams++;
    sse.requests++;
    // A stream opened anew cannot send the Last-Event-ID header from an EventSource: the query.
    const resume = host.lastEventId ? `&lastEventId=${encodeURIComponent(host.lastEventId)}` : '';
    disconnect = connect(host.http.url('/status', resume), {
      data: (bytes) => {
        // A chunk read before close() may be handled after it: it must not re-arm the watchdog.
        if (closed) return;
        sse.bytes += bytes;
        // Before `connected`, bytes (a proxy's padding, a partial event) extend nothing.
        if (connectedAt === undefined) return;
        if (elapsedNow() - lastEventAt > MAX_HEARTBEATS_WITHOUT_EVENT * host.heartbeatMs) {
          return fail(new SSEError('No complete event'));
        }
        watch();
      },
      event,
      fail,
    });
    watch();
  };

  const event = (type: string, data: string, id: string): void => {
    if (closed) return;
    // `connected` alone proves nothing: a server, or a proxy's first flush, that says it and then
    // goes silent must run out of retries. An event a heartbeat later shows the stream carries.
    if (connectedAt !== undefined && elapsedNow() - connectedAt >= host.heartbeatMs) proven = true;
    lastEventAt = elapsedNow();
    // [spec] Events without an id keep the last event id, so a heartbeat never spoils a resume.
    // An id too long to send back keeps the one before it, too.
    if (id && id.length <= MAX_EVENT_ID_LENGTH) host.lastEventId = id;
    try {
      const value = JSON.parse(data) as { heartbeatMs?: unknown } | null;
      if (type === 'connected') {
        // A heartbeat that is not a positive number of ms keeps the one known.
        const announced = Math.min(clampDelay(value?.heartbeatMs), MAX_HEARTBEAT_MS);
        if (announced) host.heartbeatMs = Math.max(announced, MIN_HEARTBEAT_MS);
        connectedAt = elapsedNow();
        watch();
        onState({ state: 'open', transport: 'sse' });
      } else if (type === 'snapshot') {
        const jobs = asJobs(value);
        jobs.forEach(host.update);
        host.snapshot(jobs);
      } else if (type === 'job') host.update(asJob(value));
    } catch (cause) {
      host.error(new MessageParseError(data, cause), host.ids());
    }
  };

  const fail = (error: SSEError): void => {
    if (closed) return;
    disconnect?.();
    clearTimeout(timer);
    if (proven) attempt = 0;
    proven = false;
    connectedAt = undefined;
    // Refused for its size: the resume id is the part of the request that grows, so the next
    // stream goes without it (the server then sends a snapshot). Other refusals keep it. Only a
    // fetch stream knows the status: an EventSource's URL is kept short by MAX_EVENT_ID_LENGTH.
    if (error.status === 414 || error.status === 431) delete host.lastEventId;
    reportFailure('sse', retries, onState, error, ++attempt, transport.close);
    if (!closed) timer = setTimeout(open, backoff(attempt, host.retryDelay));
  };

  const transport: Transport = {
    start: () => {
      onState({ state: 'connecting', transport: 'sse', attempt });
      if (!closed) open();
    },
    // The stream carries every job of the client already.
    wake: () => {},
    close: () => {
      closed = true;
      disconnect?.();
      clearTimeout(timer);
    },
  };
  return transport;
};
