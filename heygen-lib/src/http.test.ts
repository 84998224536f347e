import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fakeClock } from 'heygen-test-support';
import {
  FakeEventSource,
  fakeFetch,
  jobStub,
  type Call,
  type Reply,
} from '../test/support/fakes.js';
import { createHttp } from './http.js';
import {
  HeyGenAPI,
  HeyGenStatusListenerMode,
  HttpError,
  SSEError,
  type FetchLike,
  type HeyGenAPIOptions,
  type Job,
} from './index.js';

const URL_BASE = 'http://api.test';

/** A server that knows `jobs`: creates job 1, answers gets, cancels and batches. */
const server = (jobs = new Map<number, Job>([[1, jobStub(1, 'running', 2)]])) =>
  fakeFetch((call: Call): Reply => {
    if (call.url.pathname === '/create') return { status: 201, body: jobs.get(1) };
    if (call.url.pathname.startsWith('/cancel/')) return { body: jobStub(1, 'cancelled', 3) };
    if (call.url.pathname === '/status/1') return { body: jobs.get(1) };
    const ids = (call.url.searchParams.get('ids') ?? '').split(',').map(Number);
    return {
      body: {
        jobs: ids.filter((id) => jobs.has(id)).map((id) => jobs.get(id)),
        missing: ids.filter((id) => !jobs.has(id)),
      },
    };
  });

const newSut = (options: Partial<HeyGenAPIOptions> & { fetch: FetchLike }) =>
  new HeyGenAPI({
    url: URL_BASE,
    mode: HeyGenStatusListenerMode.POLL,
    EventSource: FakeEventSource,
    wait: false,
    pollInterval: 1000,
    retryDelay: 100,
    maxRetries: 3,
    ...options,
  });

/** A headers function handing out `Bearer t1`, `Bearer t2`, … one token per call. */
const rotating = () => {
  let calls = 0;
  const headers = vi.fn(async () => {
    await Promise.resolve(); // a refresh takes a while
    return { Authorization: `Bearer t${++calls}` };
  });
  return headers;
};

beforeEach(() => {
  FakeEventSource.instances = [];
});
afterEach(() => {
  vi.useRealTimers();
});

describe('answers', () => {
  it("should read the answer of a fetch whose body is no web stream, as node-fetch's (review of 2026-12-01)", async () => {
    const job = jobStub(1, 'running', 2);
    // node-fetch v2 answers with a Node stream as `body`: no getReader.
    const fetch: FetchLike = () =>
      Promise.resolve({
        status: 201,
        headers: { get: () => null },
        body: { pipe: () => {} } as unknown as null,
        text: () => Promise.resolve(JSON.stringify(job)),
      });
    await expect(newSut({ fetch }).createJob()).resolves.toBe(1);
  });
});

describe(createHttp.name, () => {
  it('should send static headers with every request, overriding the apiKey but not its own', async () => {
    const { fetch, calls } = server();
    const sut = createHttp(URL_BASE, 'c1', fetch, () => {}, {
      apiKey: 'k1',
      headers: { Authorization: 'Bearer other', 'X-Tenant': 't', Accept: 'text/plain' },
    });
    await sut.send({ via: 'api', method: 'GET', path: '/status/1', headers: { Prefer: 'x' } });
    expect(calls[0]!.headers).toEqual({
      Authorization: 'Bearer other',
      'X-Tenant': 't',
      Accept: 'application/json',
      Prefer: 'x',
    });
    expect(sut.headers()).toEqual({
      Authorization: 'Bearer other',
      'X-Tenant': 't',
      Accept: 'text/plain',
    });
  });

  it('should call a headers function before each request and send what it resolves to', async () => {
    const { fetch, calls } = server();
    const headers = rotating();
    const sut = createHttp(URL_BASE, 'c1', fetch, () => {}, { apiKey: 'k1', headers });
    await sut.send({ via: 'api', method: 'GET', path: '/status/1' });
    await sut.send({ via: 'poll', method: 'GET', path: '/status', query: '&ids=1' });
    expect(headers).toHaveBeenCalledTimes(2);
    expect(calls.map((c) => c.headers.Authorization)).toEqual(['Bearer t1', 'Bearer t2']);
  });

  it('should keep the apiKey when the function returns no Authorization', async () => {
    const { fetch, calls } = server();
    const sut = createHttp(URL_BASE, 'c1', fetch, () => {}, {
      apiKey: 'k1',
      headers: () => ({ 'X-Trace': '1' }),
    });
    await sut.send({ via: 'api', method: 'GET', path: '/status/1' });
    expect(calls[0]!.headers).toMatchObject({ Authorization: 'Bearer k1', 'X-Trace': '1' });
  });

  it.each([
    ['rejects', () => Promise.reject(new Error('token service down'))],
    [
      'throws',
      () => {
        throw new Error('token service down');
      },
    ],
  ])(
    'should fail a request as unanswered, without sending it, when the function %s',
    async (_name, headers) => {
      const { fetch, calls } = server();
      const sut = createHttp(URL_BASE, 'c1', fetch, () => {}, { headers });
      const error = await sut
        .send({ via: 'api', method: 'GET', path: '/status/1' })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(HttpError);
      expect(error).toMatchObject({
        status: 0,
        code: 'NETWORK_ERROR',
        cause: new Error('token service down'),
      });
      expect((error as HttpError).message).toBe(
        'GET http://api.test/status/1: headers function failed',
      );
      expect(calls).toEqual([]);
    },
  );

  it("should cut a headers function that never settles with the request's timeout", async () => {
    using clock = fakeClock();
    const { fetch, calls } = server();
    const sut = createHttp(URL_BASE, 'c1', fetch, () => {}, {
      headers: () => new Promise(() => {}),
    });
    const sent = sut.send({ via: 'api', method: 'GET', path: '/status/1', timeout: 50 });
    const rejected = expect(sent).rejects.toMatchObject({ code: 'NETWORK_ERROR' });
    await clock.advance(50);
    await rejected;
    expect(calls).toEqual([]);
  });
});

describe('HeyGenAPI headers option', () => {
  it('should call the function before create, get, cancel, polls and lookups', async () => {
    using clock = fakeClock();
    const { fetch, calls } = server();
    const headers = rotating();
    const sut = newSut({ fetch, headers });
    const id = await sut.createJob();
    await sut.getJob(id);
    await sut.cancelJob(id);
    sut.listen(2, () => {}); // polled (the batch asks for 2)
    await clock.advance(0);
    expect(calls.map((c) => `${c.method} ${c.url.pathname}`)).toEqual([
      'POST /create',
      'GET /status/1',
      'POST /cancel/1',
      'GET /status',
    ]);
    expect(calls.map((c) => c.headers.Authorization)).toEqual([
      'Bearer t1',
      'Bearer t2',
      'Bearer t3',
      'Bearer t4',
    ]);
    expect(calls[0]!.headers['Idempotency-Key']).toMatch(/^[0-9a-f-]{36}$/);
    sut.dispose();
  });

  it('should retry a call whose headers function failed like a lost answer', async () => {
    using clock = fakeClock();
    const { fetch, calls } = server();
    let failures = 1;
    const headers = vi.fn(() =>
      failures-- > 0 ? Promise.reject(new Error('refresh failed')) : { Authorization: 'Bearer ok' },
    );
    const sut = newSut({ fetch, headers });
    const created = sut.createJob();
    await clock.advance(1000);
    await expect(created).resolves.toBe(1);
    expect(headers).toHaveBeenCalledTimes(2);
    expect(calls.map((c) => c.headers.Authorization)).toEqual(['Bearer ok']);
    sut.dispose();
  });

  it('should reject a call, and settle a wait, when the function keeps failing', async () => {
    using clock = fakeClock();
    const { fetch, calls } = server();
    const headers = vi.fn(() => Promise.reject(new Error('refresh failed')));
    const sut = newSut({ fetch, headers });
    const created = expect(sut.createJob()).rejects.toMatchObject({
      code: 'NETWORK_ERROR',
      cause: new Error('refresh failed'),
    });
    const waited = expect(sut.waitForJob(1)).rejects.toBeInstanceOf(HttpError);
    await clock.advance(60_000);
    await created;
    await waited;
    expect(headers.mock.calls.length).toBeGreaterThanOrEqual(8); // 4 attempts each, at least
    expect(calls).toEqual([]);
    sut.dispose();
  });

  it("should send an EventSource the function's bearer token, fresh on every reconnect", async () => {
    using clock = fakeClock();
    const { fetch } = server();
    const sut = newSut({ fetch, mode: 'sse', apiKey: 'k1', headers: rotating() });
    sut.listen(1, () => {});
    await clock.advance(0);
    expect(FakeEventSource.instances).toHaveLength(1);
    FakeEventSource.last.connect();
    FakeEventSource.last.emit('job', jobStub(1, 'running', 3), '21');
    FakeEventSource.last.fail();
    await clock.advance(1000);
    expect(FakeEventSource.instances).toHaveLength(2);
    const tokens = FakeEventSource.instances.map((es) => es.url.searchParams.get('access_token'));
    // t1 went to the lookup of job 1, asked for as the stream opened
    expect(tokens).toEqual(['t1', expect.stringMatching(/^t\d$/)]);
    expect(tokens[1]).not.toBe('t1');
    expect(FakeEventSource.last.url.searchParams.get('lastEventId')).toBe('21');
    sut.dispose();
  });

  it('should open no EventSource when the stream closes before the function resolves', async () => {
    using clock = fakeClock();
    const { fetch } = server();
    const sut = newSut({ fetch, mode: 'sse', headers: rotating() });
    sut.listen(1, () => {});
    sut.dispose();
    await clock.advance(1000);
    expect(FakeEventSource.instances).toHaveLength(0);
  });

  it('should reconnect a stream whose headers function failed, then give up with SSEError', async () => {
    using clock = fakeClock();
    const { fetch } = server();
    const headers = vi.fn(() => Promise.reject(new Error('refresh failed')));
    const sut = newSut({ fetch, mode: 'sse', headers });
    const waited = sut.waitForJob(1).catch((e: unknown) => e);
    await clock.advance(60_000);
    const error = await waited;
    expect(error).toBeInstanceOf(SSEError);
    expect((error as SSEError).cause).toEqual(new Error('refresh failed'));
    expect(FakeEventSource.instances).toHaveLength(0);
    sut.dispose();
  });

  it('should refuse headers that are neither an object nor a function', () => {
    const { fetch } = server();
    for (const headers of ['Bearer x', 42, null, [['a', 'b']]]) {
      expect(() => newSut({ fetch, headers: headers as never })).toThrow(
        /option headers must be an object or a function/,
      );
    }
  });
});
