import { backoff } from '../backoff.js';
import { MessageParseError } from '../errors/message-parse-error.js';
import { SSEError } from '../errors/sse-error.js';
import type { Job } from '../types.js';
import type { Transport, TransportHost } from './transport.js';

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

/** The connection state of an SSE transport. */
export type SseState =
  | { state: 'connecting'; attempt: number; error?: SSEError }
  | { state: 'open' }
  | { state: 'closed' };

/**
 * SSE: one stream for every job of the client. Reconnects with backoff and Last-Event-ID, and
 * treats a missed heartbeat window as a disruption.
 */
export const createSseTransport = (h: TransportHost, connect: Connect): Transport => {
  const { sse } = h.http.stats;
  let state: SseState = { state: 'connecting', attempt: 0 };
  let disconnect: (() => void) | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;

  /** [protocol] No bytes for about two heartbeat intervals means the connection is gone. */
  const watch = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => fail(new SSEError('No heartbeat')), 2.5 * h.heartbeatMs);
  };

  const open = (attempt: number): void => {
    sse.streams++;
    sse.requests++;
    state = { state: 'connecting', attempt };
    // A stream opened anew cannot send the Last-Event-ID header from an EventSource: the query.
    const resume = h.lastEventId ? `&lastEventId=${encodeURIComponent(h.lastEventId)}` : '';
    disconnect = connect(h.http.url('/status', resume), {
      data: (bytes) => {
        sse.bytes += bytes;
        watch();
      },
      event,
      fail,
    });
    watch();
  };

  const event = (type: string, data: string, id: string): void => {
    if (state.state === 'closed') return;
    // [spec] Events without an id keep the last event id, so a heartbeat never spoils a resume.
    if (id) h.lastEventId = id;
    try {
      const value = JSON.parse(data) as { heartbeatMs: number; jobs: Job[] } & Job;
      if (type === 'connected') {
        h.heartbeatMs = value.heartbeatMs || h.heartbeatMs;
        state = { state: 'open' };
        watch();
        h.up(transport);
      } else if (type === 'snapshot') value.jobs.forEach(h.update);
      else if (type === 'job') h.update(value);
    } catch (cause) {
      h.error(new MessageParseError(data, cause), h.ids());
    }
  };

  const fail = (error: SSEError): void => {
    if (state.state === 'closed') return;
    disconnect?.();
    clearTimeout(timer);
    const attempt = (state.state === 'connecting' ? state.attempt : 0) + 1;
    state = { state: 'connecting', attempt, error };
    if (h.down(transport, error, attempt) && (state as SseState).state !== 'closed') {
      timer = setTimeout(() => open(attempt), backoff(attempt, h.retryDelay));
    }
  };

  const transport: Transport = {
    kind: 'sse',
    start: () => open(0),
    // The stream carries every job of the client already.
    wake: () => {},
    close: () => {
      state = { state: 'closed' };
      disconnect?.();
      clearTimeout(timer);
    },
  };
  return transport;
};
