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
    // The `eventsource` package (3.x) sets its reconnect timer after calling onerror, even when
    // onerror closed it: closing once more after that clears it, so no timer holds Node for 3 s.
    // A browser's EventSource is closed for good at once (the browser build leaves this out).
    const close = (): void => {
      source.close();
      if (import.meta.env.MODE !== 'browser') queueMicrotask(() => source.close());
    };
    for (const type of EVENTS) {
      source.addEventListener(type, (event) => {
        // The same bound as our own parser's; an EventSource parses with none.
        if (event.data.length > MAX_EVENT_SIZE) {
          close();
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
      const refused = source.readyState === 2;
      close();
      on.fail(new SSEError(refused ? 'Stream refused' : 'Stream lost'));
    };
    return close;
  };
