import { SSEError } from '../errors/sse-error.js';
import type { EventSourceConstructorLike } from '../types.js';
import { MAX_EVENT_SIZE } from './sse-parser.js';
import type { Connect } from './sse-transport.js';

const EVENTS = ['connected', 'snapshot', 'job', 'heartbeat'];

/** Streams through an `EventSource` (the browser's, or the `eventsource` package in Node). */
export const eventSourceConnect =
  (EventSource: EventSourceConstructorLike, apiKey?: string): Connect =>
  (url, on) => {
    // [protocol] An EventSource cannot send headers: the key goes in the query.
    const source = new EventSource(
      apiKey ? `${url}&access_token=${encodeURIComponent(apiKey)}` : url,
    );
    for (const type of EVENTS) {
      source.addEventListener(type, (event) => {
        // The same bound as our own parser's; an EventSource parses with none.
        if (event.data.length > MAX_EVENT_SIZE) {
          source.close();
          return on.fail(new SSEError('Event too large'));
        }
        on.data(event.data.length);
        on.event(type, event.data, event.lastEventId);
      });
    }
    // [spec] An EventSource reconnects by itself after a network error, but fails for good on an
    // HTTP error or a wrong content type (readyState CLOSED = 2). Either way it is closed here and
    // the transport reconnects, so every disruption reaches the fallback decision.
    source.onerror = () => {
      source.close();
      on.fail(new SSEError(source.readyState === 2 ? 'Stream refused' : 'Stream lost'));
    };
    return () => source.close();
  };
