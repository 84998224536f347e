import type {
  EventSourceConstructorLike,
  EventSourceLike,
  MessageEventLike,
} from 'heygen-lib/tabs';

/**
 * A page cannot cut its own network, so the dashboard cuts its stream where the library meets the
 * browser: the `EventSource` option (a public one) gets the browser's own EventSource, wrapped.
 * `drop(ms)` closes every open stream for real (the server sees it end) and tells the library the
 * connection failed, exactly as the browser does on a network drop (an `error` event, readyState
 * CONNECTING); for `ms` afterwards new streams fail the same way. Requests (polling, creating
 * jobs) are untouched, as when a proxy cuts only long-lived connections.
 */
export interface Outage {
  /** The constructor to pass as the library's `EventSource` option. */
  EventSource: EventSourceConstructorLike;
  /** Cuts the open streams and refuses new ones for `ms`. */
  drop(ms: number): void;
}

const CONNECTING = 0;
const CLOSED = 2;

export function createOutage(): Outage {
  const open = new Set<CuttableEventSource>();
  let downUntil = 0;

  class CuttableEventSource implements EventSourceLike {
    onerror: ((event: never) => unknown) | null = null;
    #source: EventSource | undefined;
    #state = CONNECTING;

    constructor(url: string) {
      if (Date.now() < downUntil) {
        // The network is down: the browser would report the failed connection asynchronously.
        setTimeout(() => this.#fail(), 0);
        return;
      }
      this.#source = new EventSource(url);
      this.#source.onerror = (event) => this.onerror?.(event as never);
      open.add(this);
    }

    get readyState(): number {
      return this.#source && this.#state !== CLOSED ? this.#source.readyState : this.#state;
    }

    addEventListener(type: string, listener: (event: MessageEventLike) => void): void {
      this.#source?.addEventListener(type, listener as (event: MessageEvent) => void);
    }

    close(): void {
      this.#state = CLOSED;
      this.#source?.close();
      open.delete(this);
    }

    cut(): void {
      this.#source?.close();
      this.#source = undefined;
      open.delete(this);
      this.#fail();
    }

    #fail(): void {
      if (this.#state === CLOSED) return;
      this.#state = CONNECTING;
      this.onerror?.(new Event('error') as never);
    }
  }

  return {
    EventSource: CuttableEventSource,
    drop(ms) {
      downUntil = Date.now() + ms;
      for (const source of [...open]) source.cut();
    },
  };
}
