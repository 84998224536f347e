import type {
  EventSourceLike,
  FetchLike,
  Job,
  MessageEventLike,
  ResponseLike,
} from '../../src/index.js';
import { isFinished } from 'heygen-test-support';
import { vi } from 'vitest';
import { createHttp } from '../../src/http.js';
import type { TransportHost } from '../../src/transports/transport.js';

/** A job object as the server would send it. */
export const jobStub = (
  id: number,
  status: Job['status'],
  revision: number,
  extra: Partial<Job> = {},
): Job => ({
  id,
  status,
  progress: status === 'completed' ? 100 : 0,
  revision,
  duration: 1000,
  createdAt: '2026-11-23T18:00:00.000Z',
  updatedAt: '2026-11-23T18:00:00.000Z',
  expectedAt: '2026-11-23T18:00:01.000Z',
  ...(isFinished({ status }) ? { finishedAt: '2026-11-23T18:00:01.000Z' } : {}),
  ...extra,
});

/** The held wait a recorded poll asked for, as `Prefer` would say it (`wait=25`), or undefined. */
export const askedWait = (call: { url: URL }): string | undefined => {
  const seconds = call.url.searchParams.get('wait');
  return seconds === null ? undefined : `wait=${seconds}`;
};

/** One recorded request of {@link fakeFetch}. */
export interface Call {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body: string | undefined;
}

/** What a fake handler answers: a body (JSON-encoded unless a string), status and headers. */
export interface Reply {
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** A strict fake fetch: every call is recorded and answered by `handler`, or rejects. */
export const fakeFetch = (handler: (call: Call) => Reply | Promise<Reply> | Error) => {
  const calls: Call[] = [];
  const fetch: FetchLike = async (url, init) => {
    const call: Call = {
      method: init.method ?? 'GET',
      url: new URL(url),
      headers: init.headers ?? {},
      body: init.body ?? undefined,
    };
    calls.push(call);
    const reply = await handler(call);
    if (reply instanceof Error) throw reply;
    const text =
      reply.body === undefined
        ? ''
        : typeof reply.body === 'string'
          ? reply.body
          : JSON.stringify(reply.body);
    const headers = new Map(
      Object.entries(reply.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]),
    );
    const response: ResponseLike = {
      status: reply.status ?? 200,
      headers: { get: (name) => headers.get(name.toLowerCase()) ?? null },
      text: () => Promise.resolve(text),
    };
    return response;
  };
  return { fetch, calls };
};

/**
 * {@link fakeFetch} behind a proxy with the usual request-line limit (nginx's and Apache's
 * defaults, 8 KiB): a longer line gets the proxy's HTML 414, anything else `answer`'s reply.
 */
export const fetchBehindProxy = (answer: (call: Call) => Reply) =>
  fakeFetch((call) =>
    `GET ${call.url.pathname}${call.url.search} HTTP/1.1`.length > 8192
      ? { status: 414, body: '<html>414 Request-URI Too Large</html>' }
      : answer(call),
  );

/** A controllable EventSource; instances are collected in `FakeEventSource.instances`. */
export class FakeEventSource implements EventSourceLike {
  static instances: FakeEventSource[] = [];
  readyState = 0;
  onerror: ((event: unknown) => void) | null = null;
  closed = false;
  readonly url: URL;
  private readonly listeners = new Map<string, ((event: MessageEventLike) => void)[]>();
  private lastEventId = '';

  constructor(url: string) {
    this.url = new URL(url);
    FakeEventSource.instances.push(this);
  }

  static get last(): FakeEventSource {
    return FakeEventSource.instances.at(-1)!;
  }

  addEventListener(type: string, listener: (event: MessageEventLike) => void): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }

  close(): void {
    this.closed = true;
    this.readyState = 2;
  }

  /** Deliver one event; `data` is JSON-encoded unless it is a string. */
  emit(type: string, data: unknown, id?: string): void {
    if (this.closed) return;
    this.readyState = 1;
    if (id !== undefined) this.lastEventId = id;
    const text = typeof data === 'string' ? data : JSON.stringify(data);
    for (const listener of this.listeners.get(type) ?? []) {
      listener({ data: text, lastEventId: this.lastEventId });
    }
  }

  /** `connected` as the server sends it first. */
  connect(heartbeatMs = 1000): void {
    this.emit('connected', { clientId: 'x', heartbeatMs, resumed: false });
  }

  /** A network error (`CONNECTING`) or a refusal (`CLOSED`). */
  fail(closed = false): void {
    this.readyState = closed ? 2 : 0;
    this.onerror?.({});
  }
}

/**
 * A transport's host for unit tests of one transport: a real `Http` whose fetch is never called,
 * and callbacks that do nothing, with `overrides` on top.
 */
export const transportHostStub = (overrides: Partial<TransportHost> = {}): TransportHost => ({
  http: createHttp('http://api.test', 'c1', vi.fn(), () => {}),
  heartbeatMs: 15_000,
  retryDelay: 100,
  pollInterval: 1000,
  ids: () => [],
  dueAt: () => 0,
  update: () => {},
  missing: () => {},
  error: () => {},
  snapshot: () => {},
  ...overrides,
});
