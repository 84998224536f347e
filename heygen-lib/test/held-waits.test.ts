import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type RunningServer } from 'heygen-test-support';
import {
  HeyGenAPI,
  HeyGenStatusListenerMode,
  JobNotFoundError,
  type FetchLike,
  type HeyGenAPIOptions,
} from '../src/index.js';
import { startHoldCuttingProxy, type HoldCuttingProxy } from './support/hold-cutting-proxy.js';
import { createJobs, expectStates, track } from './support/track.js';

// POLL with held waits (docs/protocol.md, "Held waits"), against the real heygen-api (built dist)
// over real HTTP: the counts asserted are loose, never timings.

let server: RunningServer;
const instances: HeyGenAPI[] = [];
const closers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  server = await startTestServer({ JOB_TIME: '300' });
});
afterAll(async () => {
  await server?.stop('SIGKILL');
});
afterEach(async () => {
  instances.splice(0).forEach((sut) => sut.dispose());
  for (const close of closers.splice(0)) await close();
});

/** POLL with the library's defaults, and any option given. */
const newSut = (url: string, options: Partial<HeyGenAPIOptions> = {}): HeyGenAPI => {
  const sut = new HeyGenAPI({ url, mode: HeyGenStatusListenerMode.POLL, ...options });
  instances.push(sut);
  return sut;
};

/** A fetch that records, for every status poll, whether it asked to be held and was. */
const recording = () => {
  const polls: { asked: boolean; held: boolean }[] = [];
  const fetchAndRecord: FetchLike = async (url, init) => {
    const response = await fetch(url, init as RequestInit);
    if (url.includes('ids=')) {
      polls.push({
        asked: new URL(url).searchParams.has('wait'),
        held: response.headers.has('preference-applied'),
      });
    }
    return response;
  };
  return { fetch: fetchAndRecord, polls };
};

describe('POLL with default options, held waits', () => {
  it('should learn the end of a job with about one request, held', async () => {
    const { fetch, polls } = recording();
    const sut = newSut(server.url, { fetch });
    const id = await sut.createJob({ duration: 1000 });
    await expect(sut.waitForJob(id)).resolves.toMatchObject({ id, status: 'completed' });
    expect(sut.stats().poll.requests).toBeGreaterThanOrEqual(1);
    expect(sut.stats().poll.requests).toBeLessThanOrEqual(2);
    expect(polls.every((poll) => poll.asked && poll.held)).toBe(true);
  });

  it('should learn every final status of many jobs with at most about one request per job', async () => {
    const { fetch, polls } = recording();
    const sut = newSut(server.url, { fetch });
    const ids = await createJobs(sut, 20, 800);
    const seen = track(sut, ids);
    await Promise.all(ids.map((id) => sut.waitForJob(id)));
    expectStates(
      ids.map((id) => seen.get(id)!),
      'poll',
    );
    expect(sut.stats().poll.requests).toBeLessThanOrEqual(24);
    expect(polls.every((poll) => poll.asked && poll.held)).toBe(true);
  });
});

describe('POLL against a server without held waits (MAX_WAIT_S=0)', () => {
  it('should poll plainly, following the hint, and lose nothing', async () => {
    const plain = await startTestServer({ JOB_TIME: '300', MAX_WAIT_S: '0' });
    closers.push(() => plain.stop('SIGKILL'));
    const { fetch, polls } = recording();
    const sut = newSut(plain.url, { fetch });
    const ids = await createJobs(sut, 5, 600);
    const seen = track(sut, ids);
    await Promise.all(ids.map((id) => sut.waitForJob(id)));
    expectStates(
      ids.map((id) => seen.get(id)!),
      'poll',
    );
    expect(polls.length).toBeGreaterThan(0);
    // Asked every time, held never: the answers are plain polls.
    expect(polls.every((poll) => poll.asked && !poll.held)).toBe(true);
  });
});

describe('POLL through a proxy that cuts held requests', () => {
  let proxy: HoldCuttingProxy;

  it.each(['drop', '504'] as const)(
    'should fall back to plain polling and lose no status (%s)',
    async (how) => {
      proxy = await startHoldCuttingProxy({ host: server.host, port: server.port }, how);
      closers.push(() => proxy.close());
      const { fetch, polls } = recording();
      const sut = newSut(proxy.url, { fetch });
      // Job 1 ends during the run; job 2 outlasts it, so that polling goes on.
      const [short, long] = [
        await sut.createJob({ duration: 500 }),
        await sut.createJob({ duration: 2500 }),
      ];
      const seen = track(sut, [short, long]);
      await Promise.all([sut.waitForJob(short), sut.waitForJob(long)]);
      expectStates([seen.get(short)!, seen.get(long)!], 'poll');
      // One held poll, cut; from then on the library polls plainly while polling goes on.
      expect(proxy.held).toBe(1);
      expect(proxy.cut).toBe(1);
      expect(polls.slice(1).every((poll) => !poll.asked)).toBe(true);
    },
  );

  it('should retry, and end a wait with a typed error, when the server restarts without its jobs mid-wait', async () => {
    const doomed = await startTestServer({ JOB_TIME: '300' });
    const next = await startTestServer({ JOB_TIME: '300' });
    closers.push(
      () => doomed.stop('SIGKILL'),
      () => next.stop('SIGKILL'),
    );
    proxy = await startHoldCuttingProxy({ host: doomed.host, port: doomed.port }, 'drop');
    closers.push(() => proxy.close());
    // The moment a held poll is on its way, the server dies (its connection drops) and a new one,
    // without its jobs, takes over the address.
    proxy.onHeld = () => {
      proxy.onHeld = undefined;
      proxy.setTarget({ host: next.host, port: next.port });
      void doomed.stop('SIGKILL');
    };
    const sut = newSut(proxy.url, { retryDelay: 50 });
    const id = await sut.createJob({ duration: 1000 });
    await expect(sut.waitForJob(id)).rejects.toEqual(new JobNotFoundError(id));
    expect(proxy.held).toBeGreaterThanOrEqual(1);
    expect(sut.stats().poll.requests).toBeGreaterThanOrEqual(2);
  });
});
