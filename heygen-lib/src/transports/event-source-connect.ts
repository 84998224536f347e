import { SSEError } from '../errors/sse-error.js';
import type { Http } from '../http.js';
import type { EventSourceConstructorLike, EventSourceLike } from '../types.js';
import { MAX_EVENT_SIZE } from './sse-parser.js';
import type { Connect } from './sse-transport.js';

const EVENTS = ['connected', 'snapshot', 'job', 'heartbeat'];

/**
 * Streams through an `EventSource` (the browser's, or the `eventsource` package in Node). Of the
 * headers, asked for anew on each connect, only the `Authorization: Bearer` token goes, in the URL.
 *
 * Its memory cannot be bounded from here: an EventSource buffers a line, or an event, until it
 * ends, and shows nothing before, so an endless line grows as fast as the server sends it (the
 * fetch stream stops at 1 MiB, sse-parser.ts). What bounds it is time: no complete event reaches
 * the transport, whose watchdog closes the EventSource within 10 s of the open, or 2.5 heartbeats
 * (at most 5 min each) after `connected`, and closing lets the buffer go.
 */
export const eventSourceConnect =
  (EventSource: EventSourceConstructorLike, headers: Http['headers']): Connect =>
  (url, on) => {
    let source: EventSourceLike | undefined;
    let closed = false;
    // The `eventsource` package (3.x) sets its reconnect timer after calling onerror, even when
    // onerror closed it: closing once more after that clears it, so no timer holds Node for 3 s.
    // A browser's EventSource is closed for good at once (the browser build leaves this out).
    const close = (): void => {
      closed = true;
      const current = source;
      // Let go of it, and of what it buffered, though the transport keeps this function.
      source = undefined;
      current?.close();
      if (import.meta.env.MODE !== 'browser') queueMicrotask(() => current?.close());
    };
    const open = (current: Record<string, string>): void => {
      if (closed) return;
      // [protocol] An EventSource cannot send headers: the token goes in the query.
      const token = /^Bearer (.+)/i.exec(current.Authorization ?? '')?.[1];
      const opened = new EventSource(
        token ? `${url}&access_token=${encodeURIComponent(token)}` : url,
      );
      source = opened;
      for (const type of EVENTS) {
        opened.addEventListener(type, (event) => {
          // The same bounds, and errors, as our own parser's, checked once the event is whole:
          // an EventSource parses with none. The id is one line.
          const tooLarge =
            event.data.length > MAX_EVENT_SIZE
              ? 'Event too large'
              : event.lastEventId.length > MAX_EVENT_SIZE
                ? 'Line too long'
                : '';
          if (tooLarge) {
            close();
            return on.fail(new SSEError(tooLarge));
          }
          on.data(event.data.length);
          on.event(type, event.data, event.lastEventId);
        });
      }
      // [spec] An EventSource reconnects by itself after a network error, but fails for good on
      // an HTTP error or a wrong content type (readyState CLOSED = 2). Either way it is closed
      // here and the transport reconnects, so every disruption reaches the fallback decision.
      opened.onerror = () => {
        const refused = opened.readyState === 2;
        close();
        on.fail(new SSEError(refused ? 'Stream refused' : 'Stream lost'));
      };
    };
    const current = headers();
    // A headers function (a promise) is waited for; a failure is a lost connection, retried.
    if (current instanceof Promise) {
      current.then(open).catch((error: unknown) => {
        if (!closed) on.fail(new SSEError('Stream lost', 0, error));
      });
    } else open(current);
    return close;
  };
