import type {
  EventSourceConstructorLike,
  HeyGenAPIOptions,
  HeyGenStatusListenerMode,
} from '../types.js';
import { eventSourceConnect } from './event-source-connect.js';
import { fetchConnect } from './fetch-connect.js';
import { createPollTransport } from './poll-transport.js';
import { createSseTransport } from './sse-transport.js';
import type { Transport, TransportHost } from './transport.js';

/**
 * The one place a mode becomes a transport. AUTO and SSE take an EventSource where one exists,
 * else SSE over a streaming fetch; AUTO polls when neither can stream.
 */
export const createTransport = (
  mode: HeyGenStatusListenerMode,
  h: TransportHost,
  options: Pick<HeyGenAPIOptions, 'EventSource'>,
): Transport => {
  const EventSource =
    options.EventSource === undefined
      ? (globalThis as { EventSource?: EventSourceConstructorLike }).EventSource
      : options.EventSource;
  if (mode !== 'poll') {
    if (EventSource) return createSseTransport(h, eventSourceConnect(EventSource, h.http.apiKey));
    if (mode === 'sse' || typeof ReadableStream === 'function') {
      return createSseTransport(h, fetchConnect(h.http.fetch, h.http.headers));
    }
  }
  return createPollTransport(h);
};
