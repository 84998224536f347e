import type {
  EventSourceConstructorLike,
  HeyGenAPIOptions,
  HeyGenStatusListenerMode,
} from '../types.js';
import { eventSourceConnect } from './event-source-connect.js';
import { createFailoverTransport } from './failover-transport.js';
import { fetchConnect } from './fetch-connect.js';
import { createPollTransport } from './poll-transport.js';
import { createSseTransport, type Connect } from './sse-transport.js';
import type { StateListener, Transport, TransportFactory, TransportHost } from './transport.js';

/**
 * SSE over a streaming fetch serves Node without an EventSource; the browser build
 * (dist/index.browser.js, chosen by the `browser` export condition) leaves it out, since every
 * browser has an EventSource. `MODE` is replaced when Vite builds (vite.config.ts).
 */
const STREAM_OVER_FETCH = import.meta.env.MODE !== 'browser';

/** How this platform opens a stream: an EventSource where one exists, else a streaming fetch. */
const streamConnect = (
  mode: HeyGenStatusListenerMode,
  host: TransportHost,
  options: Pick<HeyGenAPIOptions, 'EventSource'>,
): Connect | undefined => {
  const EventSource =
    options.EventSource === undefined
      ? (globalThis as { EventSource?: EventSourceConstructorLike }).EventSource
      : options.EventSource;
  if (mode === 'poll') return undefined;
  if (EventSource) return eventSourceConnect(EventSource, host.http.headers);
  if (STREAM_OVER_FETCH && (mode === 'sse' || typeof ReadableStream === 'function')) {
    return fetchConnect(host.http);
  }
  return undefined; // AUTO without any way to stream: poll.
};

/**
 * The one place a mode becomes a transport: `fallback ? failover(sse, poll) : sse | poll`.
 * AUTO and SSE stream where the platform can; AUTO polls where it cannot.
 */
export const createTransport = (
  mode: HeyGenStatusListenerMode,
  host: TransportHost,
  options: Pick<HeyGenAPIOptions, 'EventSource' | 'fallback' | 'wait'>,
  retries: number,
  onState: StateListener,
): Transport => {
  const connect = streamConnect(mode, host, options);
  const poll: TransportFactory = (retries, onState) =>
    createPollTransport(host, retries, onState, options.wait);
  if (!connect) return poll(retries, onState);
  const sse: TransportFactory = (retries, onState) =>
    createSseTransport(host, connect, retries, onState);
  return options.fallback
    ? createFailoverTransport(host, sse, poll, retries, onState)
    : sse(retries, onState);
};
