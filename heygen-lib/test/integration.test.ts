import { EventSource } from 'eventsource';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startProxy, startTestServer, type Proxy, type RunningServer } from 'heygen-test-support';
import {
  HeyGenAPI,
  HeyGenStatusListenerMode,
  HttpError,
  JobFailedError,
  JobNotFoundError,
  SSEError,
  type ConnectionState,
  type HeyGenAPIOptions,
} from '../src/index.js';
import { createJobs, eventually, expectStates, track } from './support/track.js';

// Integration against the real heygen-api (built dist), in Node.

/** The library as apps import it in Node (npm run build -w heygen-lib). */
const BUILT_LIBRARY = fileURLToPath(new URL('../dist/index.js', import.meta.url));

let server: RunningServer;
const instances: HeyGenAPI[] = [];

beforeAll(async () => {
  server = await startTestServer({ JOB_TIME: '300', HEARTBEAT_MS: '250' });
});
afterAll(async () => {
  await server?.stop('SIGKILL');
});
afterEach(() => {
  instances.splice(0).forEach((sut) => sut.dispose());
});

const newSut = (options: Partial<HeyGenAPIOptions> = {}): HeyGenAPI => {
  const sut = new HeyGenAPI({
    url: server.url,
    mode: HeyGenStatusListenerMode.SSE,
    EventSource,
    pollInterval: 50,
    retryDelay: 50,
    maxRetries: 3,
    ...options,
  });
  instances.push(sut);
  return sut;
};

/** The three ways status can travel. */
const TRANSPORTS = [
  { name: 'SSE over the eventsource package', options: { mode: 'sse', EventSource } },
  { name: 'SSE over the built-in fetch stream', options: { mode: 'sse', EventSource: null } },
  { name: 'POLL', options: { mode: 'poll' } },
] as const satisfies { name: string; options: Partial<HeyGenAPIOptions> }[];

describe.each(TRANSPORTS)('$name', ({ options }) => {
  it('should run jobs to completion, each listener seeing each state once', async () => {
    const sut = newSut(options);
    // Long enough for the stream to open before the jobs end, on a loaded machine: a stream that
    // opens after a change shows it in its snapshot, not as a change.
    const ids = await createJobs(sut, 3, 1000);
    const seen = track(sut, ids);
    const jobs = await Promise.all(ids.map((id) => sut.waitForJob(id)));
    expect(jobs.map((job) => job.status)).toEqual(['completed', 'completed', 'completed']);
    // listeners run in the same update as the waits' resolution
    expectStates(
      ids.map((id) => seen.get(id)!),
      options.mode === 'poll' ? 'poll' : 'sse',
    );
  });

  it('should reject a failed job with JobFailedError carrying the job', async () => {
    const sut = newSut(options);
    const id = await sut.createJob({ duration: 100, fail: true });
    const error = await sut.waitForJob(id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobFailedError);
    expect((error as JobFailedError).job).toMatchObject({
      id,
      status: 'failed',
      error: { code: 'SIMULATED_FAILURE' },
    });
  });

  it('should resolve at once for a job that completed before the wait (fresh instance)', async () => {
    const first = newSut(options);
    const id = await first.createJob({ duration: 0 });
    await first.waitForJob(id);
    const second = newSut({ ...options, clientId: first.clientId });
    await expect(second.waitForJob(id)).resolves.toMatchObject({ id, status: 'completed' });
  });

  it('should reject a wait for an unknown job with JobNotFoundError', async () => {
    const sut = newSut(options);
    await expect(sut.waitForJob(999_999)).rejects.toBeInstanceOf(JobNotFoundError);
  });

  it('should cancel a job', async () => {
    const sut = newSut(options);
    const id = await sut.createJob({ duration: 60_000 });
    const rejected = expect(sut.waitForJob(id)).rejects.toMatchObject({
      code: 'JOB_FAILED',
      job: { status: 'cancelled' },
    });
    await expect(sut.cancelJob(id)).resolves.toMatchObject({ status: 'cancelled' });
    await rejected;
  });
});

describe('createJob deadlines', () => {
  it('should end a job at its cancelAfter deadline, rejecting the wait with code DEADLINE', async () => {
    const sut = newSut();
    const id = await sut.createJob({ duration: 60_000, cancelAfter: '200ms' });
    const error = await sut.waitForJob(id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobFailedError);
    expect((error as JobFailedError).job).toMatchObject({
      status: 'cancelled',
      error: { code: 'DEADLINE' },
    });
  });

  it('should let the server cancel a job nobody watches, with cancelWhenUnwatched', async () => {
    const sut = newSut();
    const id = await sut.createJob({ duration: 60_000, cancelWhenUnwatched: 0.2 });
    // Nothing may watch the job meanwhile: a status read would keep it alive.
    await new Promise((resolve) => setTimeout(resolve, 800));
    await expect(sut.getJob(id)).resolves.toMatchObject({
      status: 'cancelled',
      error: { code: 'UNWATCHED' },
    });
  });

  it('should reject a cancelAfter the server cannot read with its 400', async () => {
    const sut = newSut();
    const error = await sut.createJob({ cancelAfter: '-5s' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpError);
    expect(error).toMatchObject({ status: 400, serverCode: 'INVALID_CANCEL_AFTER' });
  });
});

describe('changeBackend', () => {
  it.each([
    ['eventsource', EventSource],
    ['fetch stream', null],
  ] as const)('should switch SSE -> POLL -> SSE with jobs in flight (%s)', async (_name, ES) => {
    const sut = newSut({ EventSource: ES });
    const ids = await createJobs(sut, 10, 1500);
    const seen = track(sut, ids);
    const waits = Promise.all(ids.map((id) => sut.waitForJob(id)));
    await eventually(() => expect(seen.get(ids[0]!)).toContain('running'));
    sut.changeBackend(HeyGenStatusListenerMode.POLL);
    expect(sut.state).toMatchObject({ transport: 'poll' });
    // Polling asks when the jobs are due (their createJob answers said when), not at once: give
    // it a moment, then switch back while every job is still running.
    await new Promise((resolve) => setTimeout(resolve, 300));
    sut.changeBackend(HeyGenStatusListenerMode.SSE);
    expect(sut.state).toMatchObject({ transport: 'sse' });
    await waits;
    // listeners run in the same update as the waits' resolution
    // Part of the run was polled: a short state may be skipped, never doubled or reversed.
    expectStates(
      ids.map((id) => seen.get(id)!),
      'poll',
    );
    expect(sut.stats().sse.streams).toBeGreaterThanOrEqual(2);
  });
});

describe('through a disruptive proxy', () => {
  let proxy: Proxy;
  beforeAll(async () => {
    proxy = await startProxy({ target: { host: server.host, port: server.port } });
  });
  afterEach(() => proxy.setMode('pass'));
  afterAll(async () => {
    await proxy.close();
  });

  describe.each([
    ['eventsource', EventSource],
    ['fetch stream', null],
  ] as const)('%s', (_name, ES) => {
    it.each(['cut-streams', 'stall-streams'] as const)(
      'should fall back to POLL when streams are %s, then return to SSE',
      async (mode) => {
        const sut = newSut({ url: proxy.url, EventSource: ES, fallback: true });
        // One job ends during the cut (only polling can tell it), four outlast the heal (the
        // library returns to SSE only while something is watched).
        const ids = [...(await createJobs(sut, 1, 1000)), ...(await createJobs(sut, 4, 6000))];
        const seen = track(sut, ids);
        const waits = Promise.all(ids.map((id) => sut.waitForJob(id)));
        await eventually(() => expect(proxy.openStreams).toBe(1));
        proxy.setMode(mode);
        await eventually(() => expect(sut.stats().fallbacks).toBeGreaterThanOrEqual(1));
        await eventually(() => expect(sut.stats().poll.requests).toBeGreaterThan(0));
        proxy.setMode('pass');
        await eventually(() => expect(sut.stats().upgrades).toBeGreaterThanOrEqual(1));
        const polls = sut.stats().poll.requests;
        await waits;
        // listeners run in the same update as the waits' resolution
        // Part of the run was polled: a short state may be skipped, never doubled or reversed.
        expectStates(
          ids.map((id) => seen.get(id)!),
          'poll',
        );
        // back on SSE, later jobs need no polling
        const late = await sut.createJob({ duration: 200 });
        await sut.waitForJob(late);
        expect(sut.stats().poll.requests).toBe(polls);
      },
    );

    it(
      'should fall back to POLL well before 2.5 default heartbeats when a proxy holds every stream byte',
      { timeout: 30_000 },
      async () => {
        // Like a buffering proxy: not one byte of a new stream (not even `connected`) gets
        // through. The client never learns the server's heartbeat, so only the first-event bound
        // (10 s, not 2.5 × the default 15 s) can end the wait for it within the timeout.
        proxy.setMode('stall-streams');
        const states: ConnectionState[] = [];
        const sut = newSut({
          url: proxy.url,
          mode: 'auto',
          EventSource: ES,
          fallback: true,
          onStateChange: (state) => states.push(state),
        });
        const id = await sut.createJob({ duration: 200 });
        await expect(sut.waitForJob(id)).resolves.toMatchObject({ id, status: 'completed' });
        expect(states).toContainEqual({ state: 'open', transport: 'poll' });
        expect(sut.stats()).toMatchObject({ fallbacks: 1, upgrades: 0 });
        expect(sut.stats().poll.requests).toBeGreaterThan(0);
        expect(sut.stats().sse.bytes).toBe(0);
      },
    );

    it('should reject waits with SSEError when streams are cut and fallback is off', async () => {
      const sut = newSut({ url: proxy.url, EventSource: ES, maxRetries: 2 });
      const id = await sut.createJob({ duration: 60_000 });
      const outcome = sut.waitForJob(id).catch((error: unknown) => error);
      await eventually(() => expect(proxy.openStreams).toBe(1));
      proxy.setMode('cut-streams');
      expect(await outcome).toBeInstanceOf(SSEError);
      await sut.cancelJob(id);
    });
  });
});

describe('when the server dies mid-wait', () => {
  it.each([
    ['SSE (eventsource), no fallback', { mode: 'sse', EventSource }, SSEError],
    ['SSE (fetch stream), no fallback', { mode: 'sse', EventSource: null }, SSEError],
    ['SSE with fallback', { mode: 'sse', EventSource, fallback: true }, HttpError],
    ['POLL', { mode: 'poll' }, HttpError],
  ] as const)('should reject, not crash (%s)', async (_name, options, ErrorClass) => {
    const doomed = await startTestServer({ HEARTBEAT_MS: '250' });
    try {
      const sut = newSut({ url: doomed.url, ...options, maxRetries: 2 });
      // Short enough that POLL, following the server's hint, asks again soon after the kill.
      const id = await sut.createJob({ duration: 3000 });
      const seen = track(sut, [id]);
      const outcome = sut.waitForJob(id).catch((error: unknown) => error);
      // Watched (polling asks only once the job is due, so `running` may never be seen): kill.
      await eventually(() => expect(seen.get(id)?.length).toBeGreaterThan(0));
      await doomed.stop('SIGKILL');
      expect(await outcome).toBeInstanceOf(ErrorClass);
    } finally {
      await doomed.stop('SIGKILL');
    }
  });
});

describe('200 jobs at once', () => {
  it.each(TRANSPORTS)(
    'should call every listener exactly once per state ($name)',
    async ({ options }) => {
      const sut = newSut({ ...options, pollInterval: 100 });
      // The stream opens at the first listen, after all 200 creations: with jobs of 800 ms it once
      // opened after the first jobs had completed (the test files on two workers), and their
      // listeners saw `completed` in its snapshot, not `running` before it.
      const ids = await createJobs(sut, 200, 2000);
      const seen = track(sut, ids);
      await Promise.all(ids.map((id) => sut.waitForJob(id)));
      // listeners run in the same update as the waits' resolution
      expectStates(
        ids.map((id) => seen.get(id)!),
        options.mode === 'poll' ? 'poll' : 'sse',
      );
      if (options.mode === 'poll') expect(sut.stats().sse.streams).toBe(0);
      else expect(sut.stats().sse.streams).toBe(1);
    },
  );
});

describe('documented Node usage', () => {
  it('should use a global EventSource in AUTO, as the product brief shows', async () => {
    const global = globalThis as { EventSource?: unknown };
    global.EventSource = EventSource;
    try {
      const sut = new HeyGenAPI({ url: server.url, mode: HeyGenStatusListenerMode.AUTO });
      instances.push(sut);
      const id = await sut.createJob();
      await sut.waitForJob(id);
      expect(sut.stats()).toMatchObject({ sse: { streams: 1 }, poll: { requests: 0 } });
    } finally {
      delete global.EventSource;
    }
  });

  it('should stream over fetch in AUTO when Node has no EventSource', async () => {
    expect('EventSource' in globalThis).toBe(false);
    const sut = new HeyGenAPI({
      url: server.url,
      mode: HeyGenStatusListenerMode.AUTO,
      logging: true,
    });
    instances.push(sut);
    const id = await sut.createJob({ duration: 100 });
    await sut.waitForJob(id);
    expect(sut.stats().sse.streams).toBe(1);
    expect(sut.stats().poll.requests).toBe(0);
  });

  it('should let a Node script exit by itself after its last wait, without dispose()', async () => {
    // The documented script, against the built library, in a process of its own.
    const script = [
      "import { EventSource } from 'eventsource';",
      `import { HeyGenAPI } from ${JSON.stringify(BUILT_LIBRARY)};`,
      'globalThis.EventSource = EventSource;',
      `const heygen = new HeyGenAPI({ url: ${JSON.stringify(server.url)}, mode: 'auto' });`,
      'const id = await heygen.createJob({ duration: 100 });',
      'await heygen.waitForJob(id);',
      "process.stdout.write('settled ' + Date.now());",
    ].join('\n');
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const [code] = (await once(child, 'exit')) as [number];
    const exitedAt = Date.now();
    expect(code).toBe(0);
    const settledAt = Number(/settled (\d+)/.exec(stdout)?.[1]);
    // No stream, watchdog or backoff left behind: it exits as soon as the wait settles.
    expect(exitedAt - settledAt).toBeLessThan(1000);
  });
});
