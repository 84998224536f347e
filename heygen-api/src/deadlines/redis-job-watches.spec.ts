import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it, onTestFinished, vi, type Mock } from 'vitest';
import { connectTestRedis, newPrefix, useTestRedis } from '../../test/support/redis-server.js';
import { clientStub, otherClientStub } from '../../test/unit/stubs.js';
import { type RedisConnections } from '../redis/redis-connections.js';
import {
  REFRESH_MS as APP_REFRESH_MS,
  RedisJobWatches,
  type RedisJobWatchesOptions,
} from './redis-job-watches.js';

const redis = useTestRedis();

/** Short ticks and grace: a job counts as unwatched 2 × REFRESH_MS after its time. */
const REFRESH_MS = 40;
const SHORT = { refreshMs: REFRESH_MS, graceMs: 2 * REFRESH_MS };

type Unwatched = Mock<(clientId: string, id: number) => void>;

interface Instance {
  sut: RedisJobWatches;
  unwatched: Unwatched;
  connections: RedisConnections;
}

/**
 * One instance's watches under `prefix` (shared by the test's instances), ticking unless told, on
 * SHORT ticks unless given the app's own (`{}`).
 */
async function newInstance(
  prefix: string,
  { ticking = true, options = SHORT }: { ticking?: boolean; options?: RedisJobWatchesOptions } = {},
): Promise<Instance> {
  const { connections } = await connectTestRedis(redis, {}, prefix);
  const sut = new RedisJobWatches(connections, options);
  // As JobsService does: the job is cancelled (or found finished), and its watch forgotten.
  const unwatched = vi.fn<(clientId: string, id: number) => void>((clientId, id) =>
    sut.forget(clientId, id),
  );
  sut.onUnwatched(unwatched);
  if (ticking) sut.onModuleInit();
  onTestFinished(() => sut.onModuleDestroy());
  return { sut, unwatched, connections };
}

/** Every hand-over of both instances, as `client:id`. */
const claims = (...instances: Instance[]): string[] =>
  instances.flatMap(({ unwatched }) => unwatched.mock.calls.map(([c, id]) => `${c}:${id}`)).sort();

const score = (instance: Instance, member: string): Promise<string | null> =>
  instance.connections.command.zscore(`${instance.connections.prefix}unwatched`, member);

describe(RedisJobWatches.name, () => {
  it('should hand each unwatched job over once, on one of the instances sweeping', async () => {
    const prefix = newPrefix();
    const a = await newInstance(prefix);
    const b = await newInstance(prefix);
    const ids = Array.from({ length: 20 }, (_, i) => i + 1);
    await Promise.all(ids.map((id) => (id % 2 ? a : b).sut.add(clientStub, id, 50)));
    await a.sut.add(otherClientStub, 1, 50);

    await vi.waitFor(() => expect(claims(a, b)).toHaveLength(21), { timeout: 1500, interval: 20 });
    await sleep(4 * REFRESH_MS);

    expect(claims(a, b)).toEqual(
      [...ids.map((id) => `${clientStub}:${id}`), `${otherClientStub}:1`].sort(),
    );
    const { command } = a.connections;
    expect(await command.exists(`${prefix}unwatched`, `${prefix}unwatched:after`)).toBe(0);
    expect(await command.exists(`${prefix}unwatched:client:${clientStub}`)).toBe(0);
  });

  it('should hand a claimed job over again once its lease ends, unless forgotten', async () => {
    const prefix = newPrefix();
    const a = await newInstance(prefix);
    // The claim's answer never reaches its instance (Redis paused past the command timeout).
    a.unwatched.mockImplementation(() => {});
    await a.sut.add(clientStub, 1, 10);

    await vi.waitFor(() => expect(a.unwatched).toHaveBeenCalledTimes(2), {
      timeout: 3000,
      interval: 20,
    });
    a.sut.forget(clientStub, 1);
    await sleep(15 * REFRESH_MS);
    expect(a.unwatched).toHaveBeenCalledTimes(2);
  });

  it('should not hand a job over before its time and the grace', async () => {
    const prefix = newPrefix();
    const a = await newInstance(prefix);
    const added = Date.now();
    await a.sut.add(clientStub, 1, 200);

    await vi.waitFor(() => expect(a.unwatched).toHaveBeenCalledOnce(), { timeout: 1500 });
    // Its time, 200 ms, and the grace, 2 × REFRESH_MS.
    expect(Date.now() - added).toBeGreaterThanOrEqual(200 + 2 * REFRESH_MS);
  });

  it("should spare a job another instance's stream or held wait watches, until it ends", async () => {
    const prefix = newPrefix();
    const a = await newInstance(prefix);
    const b = await newInstance(prefix);
    const unwatchAll = a.sut.watchAll(clientStub);
    const unwatchOne = a.sut.watch(otherClientStub, [7, 8]);
    // Added after the stream opened, on the other instance: the stream still watches it.
    await b.sut.add(clientStub, 1, 30);
    await b.sut.add(otherClientStub, 7, 30);

    await sleep(400);
    expect(claims(a, b)).toEqual([]);
    expect(a.sut.size).toBe(3);

    unwatchAll();
    await vi.waitFor(() => expect(claims(a, b)).toEqual([`${clientStub}:1`]), { timeout: 1500 });
    await sleep(300);
    expect(claims(a, b)).toEqual([`${clientStub}:1`]);

    unwatchOne();
    await vi.waitFor(() => expect(claims(a, b)).toHaveLength(2), { timeout: 1500 });
    expect(claims(a, b)).toContain(`${otherClientStub}:7`);
    expect(a.sut.size).toBe(0);
  });

  it('should refresh a job once when a plain read of it ends', async () => {
    const prefix = newPrefix();
    const a = await newInstance(prefix, { ticking: false });
    await a.sut.add(clientStub, 1, 60_000);
    const before = Number(await score(a, `1@${clientStub}`));

    await sleep(20);
    a.sut.watch(clientStub, [1, 2])();
    a.sut.watch(otherClientStub, undefined)();

    await vi.waitFor(async () =>
      expect(Number(await score(a, `1@${clientStub}`))).toBeGreaterThan(before),
    );
    // A job never added is not brought in by a read.
    expect(await score(a, `2@${clientStub}`)).toBeNull();
    expect(a.sut.size).toBe(0);
  });

  it('should not hand over a job that was forgotten', async () => {
    const prefix = newPrefix();
    const a = await newInstance(prefix);
    await a.sut.add(clientStub, 1, 10);
    a.sut.forget(clientStub, 1);

    await sleep(400);
    expect(a.unwatched).not.toHaveBeenCalled();
    const { command } = a.connections;
    expect(await command.exists(`${prefix}unwatched`, `${prefix}unwatched:after`)).toBe(0);
    expect(await command.exists(`${prefix}unwatched:client:${clientStub}`)).toBe(0);
  });

  it('should keep a job added twice as it was added first', async () => {
    const prefix = newPrefix();
    const a = await newInstance(prefix, { ticking: false });
    await a.sut.add(clientStub, 1, 60_000);
    const first = await score(a, `1@${clientStub}`);
    await sleep(10);
    await a.sut.add(clientStub, 1, 60_000);

    expect(await score(a, `1@${clientStub}`)).toBe(first);
  });

  it('should sweep no more once destroyed', async () => {
    const prefix = newPrefix();
    const a = await newInstance(prefix);
    a.sut.onModuleDestroy();
    await a.sut.add(clientStub, 1, 1);

    await sleep(400);
    expect(a.unwatched).not.toHaveBeenCalled();
    expect(await score(a, `1@${clientStub}`)).not.toBeNull();
  });

  it('should go on sweeping after Redis was away, without failing', async () => {
    const prefix = newPrefix();
    const a = await newInstance(prefix);
    const unwatch = a.sut.watchAll(clientStub);

    await redis.kill();
    // Ticks and a refresh fail meanwhile: logged, never thrown (an unhandled rejection fails the run).
    unwatch();
    await sleep(4 * REFRESH_MS);
    await redis.restart();
    await vi.waitFor(() => expect(a.connections.command.status).toBe('ready'), { timeout: 5000 });

    await a.sut.add(clientStub, 1, 10);
    await vi.waitFor(() => expect(a.unwatched).toHaveBeenCalledExactlyOnceWith(clientStub, 1), {
      timeout: 2000,
    });
  });

  it("should spare a job an instance's stream watches while that instance stalls for seconds (review of 2026-12-01)", async () => {
    const prefix = newPrefix();
    // The app's own ticks and grace.
    const a = await newInstance(prefix, { options: {} });
    const b = await newInstance(prefix, { options: {} });
    a.sut.watchAll(clientStub);
    await b.sut.add(clientStub, 1, 300);
    await sleep(2 * APP_REFRESH_MS);

    // A's ticks stop for 1.8 s, as in a long GC pause or a blocked event loop; B sweeps on.
    a.sut.onModuleDestroy();
    await sleep(1800);
    a.sut.onModuleInit();
    await sleep(2 * APP_REFRESH_MS);

    expect(claims(a, b)).toEqual([]);
  });
});
