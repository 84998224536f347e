import { EventSource, type FetchLike } from 'eventsource';
import { onTestFinished, vi } from 'vitest';

/** One event as a browser EventSource hands it to a listener. */
export interface ReceivedEvent<T = unknown> {
  type: string;
  /** The EventSource's last event id when the event was dispatched ('' before any `id:`). */
  lastEventId: string;
  data: T;
}

export interface EventSourceOptions {
  /** Headers added to every request, the initial one and each reconnect. */
  headers?: Record<string, string>;
  /** Event names to listen to. */
  events?: string[];
}

/**
 * A real SSE client (the `eventsource` package, as heygen-lib uses in Node) that records every
 * named event and every error, and closes when the test finishes.
 */
export class RecordingEventSource {
  readonly source: EventSource;
  readonly received: ReceivedEvent[] = [];
  /** Number of `open` events: 1 after the first connection, +1 per reconnect. */
  opens = 0;
  errors = 0;

  constructor(
    url: string,
    {
      headers = {},
      events = ['connected', 'snapshot', 'job', 'heartbeat'],
    }: EventSourceOptions = {},
  ) {
    const withHeaders: FetchLike = (input, init) =>
      fetch(input, { ...init, headers: { ...init.headers, ...headers } });
    this.source = new EventSource(url, { fetch: withHeaders });
    this.source.addEventListener('open', () => (this.opens += 1));
    this.source.addEventListener('error', () => (this.errors += 1));
    for (const type of events) {
      this.source.addEventListener(type, (event) => {
        this.received.push({
          type,
          lastEventId: event.lastEventId,
          data: JSON.parse(event.data as string) as unknown,
        });
      });
    }
    onTestFinished(() => this.source.close());
  }

  /** The received events of one type, in order. */
  ofType<T>(type: string): ReceivedEvent<T>[] {
    return this.received.filter((event) => event.type === type) as ReceivedEvent<T>[];
  }

  /** Waits until an event of `type` matching `predicate` has arrived, and returns it. */
  waitFor<T>(
    type: string,
    predicate: (event: ReceivedEvent<T>) => boolean = () => true,
    timeout = 5000,
  ): Promise<ReceivedEvent<T>> {
    return vi.waitFor(
      () => {
        const found = this.ofType<T>(type).find(predicate);
        if (!found)
          throw new Error(`no matching "${type}" event yet (${this.received.length} received)`);
        return found;
      },
      { timeout, interval: 10 },
    );
  }

  close(): void {
    this.source.close();
  }
}
