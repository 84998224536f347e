import { describe, expect, it, vi } from 'vitest';
import type { SSEError } from '../errors/sse-error.js';
import type { FetchLike, ResponseLike } from '../types.js';
import { fetchConnect } from './fetch-connect.js';
import type { StreamHandlers } from './sse-transport.js';

const encoder = new TextEncoder();

/** A response whose body yields `chunks`, then stays open (or ends). */
const streamResponse = (
  chunks: string[],
  init: { status?: number; type?: string; end?: boolean } = {},
): ResponseLike => {
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      chunks.forEach((chunk) => controller.enqueue(encoder.encode(chunk)));
      if (init.end) controller.close();
    },
  });
  return {
    status: init.status ?? 200,
    headers: { get: () => init.type ?? 'text/event-stream; charset=utf-8' },
    body,
    text: () => Promise.resolve(''),
  };
};

/** The part of Http a stream uses: `fetch`, and the headers of the moment. */
const http = (
  fetch: FetchLike,
  headers: () => Record<string, string> | Promise<Record<string, string>> = () => ({}),
) => ({ fetch, headers });

const handlers = () => {
  const events: string[][] = [];
  const failures: SSEError[] = [];
  let bytes = 0;
  const on: StreamHandlers = {
    data: (n) => (bytes += n),
    event: (type, data, id) => events.push([type, data, id]),
    fail: (error) => failures.push(error),
  };
  return { on, events, failures, bytes: () => bytes };
};

describe(fetchConnect.name, () => {
  it('should parse events from chunks and send the stream headers', async () => {
    const fetch = vi.fn<FetchLike>(() =>
      Promise.resolve(
        streamResponse([
          'retry: 100\n\nevent: connected\ndata: {"a"',
          ':1}\n\nid: 4\nevent: job\ndata: {}\n\n',
        ]),
      ),
    );
    const { on, events, failures, bytes } = handlers();
    const close = fetchConnect(http(fetch, () => ({ Authorization: 'Bearer k' })))(
      'http://x/status?uuid=u',
      on,
    );
    await vi.waitFor(() => expect(events).toHaveLength(2));
    expect(events).toEqual([
      ['connected', '{"a":1}', ''],
      ['job', '{}', '4'],
    ]);
    expect(bytes()).toBeGreaterThan(0);
    expect(fetch.mock.calls[0]![1].headers).toMatchObject({
      Accept: 'text/event-stream',
      Authorization: 'Bearer k',
    });
    close();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(failures).toEqual([]); // closing is not a failure
  });

  it.each([
    ['a refusal', { status: 503 }],
    ['a wrong content type', { type: 'application/json' }],
    ['the end of the stream', { end: true }],
  ])('should fail on %s', async (_name, init) => {
    const { on, failures } = handlers();
    fetchConnect(http(() => Promise.resolve(streamResponse([], init))))('http://x/', on);
    await vi.waitFor(() => expect(failures).toHaveLength(1));
    expect(failures[0]).toMatchObject({ code: 'SSE_ERROR' });
  });

  it('should fail when fetch rejects', async () => {
    const { on, failures } = handlers();
    fetchConnect(http(() => Promise.reject(new TypeError('refused'))))('http://x/', on);
    await vi.waitFor(() => expect(failures).toHaveLength(1));
    expect(failures[0]!.cause).toBeInstanceOf(TypeError);
  });

  it('should ask for the headers on each connect and send the ones of the moment', async () => {
    const fetch = vi.fn<FetchLike>(() => Promise.resolve(streamResponse([])));
    let token = 'a';
    const headers = vi.fn(() => Promise.resolve({ Authorization: `Bearer ${token}` }));
    const connect = fetchConnect(http(fetch, headers));
    const closeFirst = connect('http://x/', handlers().on);
    await vi.waitFor(() => expect(fetch).toHaveBeenCalledTimes(1));
    closeFirst();
    token = 'b';
    connect('http://x/', handlers().on)();
    await vi.waitFor(() => expect(fetch).toHaveBeenCalledTimes(2));
    expect(headers).toHaveBeenCalledTimes(2);
    expect(fetch.mock.calls.map(([, init]) => init.headers?.Authorization)).toEqual([
      'Bearer a',
      'Bearer b',
    ]);
  });

  it('should fail the connection, without fetching, when the headers function rejects', async () => {
    const fetch = vi.fn<FetchLike>();
    const { on, failures } = handlers();
    const refused = new Error('token service down');
    fetchConnect(http(fetch, () => Promise.reject(refused)))('http://x/', on);
    await vi.waitFor(() => expect(failures).toHaveLength(1));
    expect(failures[0]).toMatchObject({ code: 'SSE_ERROR', cause: refused });
    expect(fetch).not.toHaveBeenCalled();
  });
});
