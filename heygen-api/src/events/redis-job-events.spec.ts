import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { clientStub, otherClientStub } from '../../test/unit/stubs.js';
import { newJob } from '../domain/job.js';
import { type JobEvent } from './job-events.js';
import { connectTestRedis, newPrefix, useTestRedis } from '../../test/support/redis-server.js';
import { describeJobEventsContract } from './job-events.contract.js';
import { REPLAY_PAGE, RedisJobEvents } from './redis-job-events.js';

const redis = useTestRedis();

const jobStub = (id: number) => newJob(id, 1000, Date.parse('2026-11-23T18:00:00.000Z'));

/** One instance's events on the file's Redis, started, and stopped after the test. */
async function startEvents(env: Record<string, string> = {}) {
  const { config, connections } = await connectTestRedis(redis, env);
  const sut = new RedisJobEvents(config, connections);
  sut.onModuleInit();
  onTestFinished(() => sut.onModuleDestroy());
  return { sut, connections };
}

describeJobEventsContract('Redis', async (env = {}) => {
  // Two instances: two sets of connections under one prefix, as two processes would have.
  const prefix = newPrefix();
  const [sut, peer] = await Promise.all(
    [0, 1].map(async () => {
      const { config, connections } = await connectTestRedis(redis, env, prefix);
      const events = new RedisJobEvents(config, connections);
      events.onModuleInit();
      onTestFinished(() => events.onModuleDestroy());
      return events;
    }),
  );
  return { sut: sut!, peer: peer! };
});

describe('RedisJobEvents resuming a long log (review of 2026-12-02)', () => {
  it('should replay it whole and in order, reading Redis a page at a time', async () => {
    const { sut, connections } = await startEvents();
    sut.subscribe(clientStub, () => {});
    const start = await sut.head(clientStub); // subscribed
    const published: string[] = [];
    for (let i = 1; i <= 2 * REPLAY_PAGE + 1; i++) {
      published.push((await sut.publish(clientStub, jobStub(i))).id);
    }
    // XRANGE calls inside scripts count in Redis's commandstats: one a page.
    const xranges = async () =>
      Number(
        /cmdstat_xrange:calls=(\d+)/.exec(await connections.command.info('commandstats'))?.[1] ?? 0,
      );
    const before = await xranges();

    const replay = await sut.replay(clientStub, start);

    expect(replay?.map(({ id }) => id)).toEqual(published);
    expect(replay?.map(({ job }) => job.id)).toEqual(published.map((_, i) => i + 1));
    expect((await xranges()) - before).toBe(3);
    // A limit inside a page, and one that ends on a page's end.
    expect(await sut.replay(clientStub, start, 3)).toEqual(replay?.slice(0, 3));
    expect(await sut.replay(clientStub, start, REPLAY_PAGE)).toEqual(replay?.slice(0, REPLAY_PAGE));
  });
});

describe('RedisJobEvents after Redis lost its data (review of 2026-12-01)', () => {
  it('should start its subscribers over, and resume no id of before the loss', async () => {
    const { sut } = await startEvents();
    const lost = vi.fn();
    sut.subscribe(clientStub, () => {}, lost);
    await sut.head(clientStub); // subscribed
    // A burst: more than one event a millisecond runs the client's ids ahead of Redis's clock.
    let last = '';
    for (let i = 1; i <= 1500; i++) last = (await sut.publish(clientStub, jobStub(i))).id;
    expect(Number(last)).toBeGreaterThan(Date.now());

    await redis.restart({ empty: true });

    await vi.waitFor(() => expect(lost).toHaveBeenCalledOnce(), { timeout: 10_000 });
    // A new sequence begun while the clock is still behind the old ids...
    expect(Number((await sut.publish(clientStub, jobStub(9998))).id)).toBeLessThan(Number(last));
    // ...and once it has passed the old id, that id still gets no replay of it.
    await vi.waitFor(() => expect(Date.now()).toBeGreaterThan(Number(last)), {
      timeout: 10_000,
      interval: 50,
    });
    const next = await sut.publish(clientStub, jobStub(9999));
    expect(Number(next.id)).toBeGreaterThan(Number(last));
    expect(await sut.replay(clientStub, last)).toBeUndefined();
  }, 30_000);

  it('should not start over a quiet client whose stream expired, when Redis kept its data (review of 2026-12-01)', async () => {
    const { sut, connections } = await startEvents({ RETENTION_MS: '1000' });
    const lost = vi.fn();
    const heard: JobEvent[] = [];
    // One client that never had an event, one whose only event expired with its stream.
    sut.subscribe(otherClientStub, () => {}, lost);
    sut.subscribe(clientStub, (event) => heard.push(event), lost);
    await sut.head(otherClientStub);
    await sut.publish(clientStub, jobStub(1));
    await vi.waitFor(() => expect(heard).toHaveLength(1));
    await new Promise((resolve) => setTimeout(resolve, 1500));

    // A blip of the subscriber's connection: it reconnects and catches up.
    await connections.command.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
    await vi.waitFor(
      async () => {
        await sut.publish(clientStub, jobStub(2));
        expect(heard.length).toBeGreaterThan(1);
      },
      { timeout: 10_000, interval: 200 },
    );

    expect(lost).not.toHaveBeenCalled();
  });

  it('should start a subscriber over when events it missed in a gap were trimmed (review of 2026-12-01)', async () => {
    const { sut, connections } = await startEvents({ REPLAY_LOG_SIZE: '5' });
    const lost = vi.fn();
    const heard: JobEvent[] = [];
    sut.subscribe(clientStub, (event) => heard.push(event), lost);
    await sut.head(clientStub);
    await sut.publish(clientStub, jobStub(1));
    await vi.waitFor(() => expect(heard).toHaveLength(1));

    // The subscriber's connection drops; more events than the log keeps come before it is back.
    await connections.command.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
    for (let id = 2; id <= 12; id++) await sut.publish(clientStub, jobStub(id));

    // It read back the last five and went on as if nothing else had happened.
    await vi.waitFor(() => expect(lost).toHaveBeenCalledOnce(), { timeout: 10_000 });
    expect(heard.map((event) => event.job.id)).toEqual([1]);
  });

  it("should resume from a client's latest id once its stream expired, and go on from it (review of 2026-12-01)", async () => {
    const { sut, connections } = await startEvents({ RETENTION_MS: '1000' });
    const latest = await sut.publish(clientStub, jobStub(1));
    const stream = `${connections.prefix}{${clientStub}}:events`;
    await vi.waitFor(async () => expect(await connections.command.exists(stream)).toBe(0), {
      timeout: 5000,
      interval: 100,
    });

    // Up to date: nothing after its latest id (it answered 410, again and again).
    expect(await sut.replay(clientStub, latest.id)).toEqual([]);
    expect(await sut.head(clientStub)).toBe(latest.id);
    const next = await sut.publish(clientStub, jobStub(2));
    expect(Number(next.id)).toBeGreaterThan(Number(latest.id));
    expect((await sut.replay(clientStub, latest.id))?.map((event) => event.job.id)).toEqual([2]);
  });

  it("should keep a client's last position POSITION_RETENTION_MS longer than its events, then answer its resume with a snapshot", async () => {
    const env = { RETENTION_MS: '1000', POSITION_RETENTION_MS: '500' };
    const { sut, connections } = await startEvents(env);
    const latest = await sut.publish(clientStub, jobStub(1));
    const position = `${connections.prefix}{${clientStub}}:head-since`;
    const ttl = await connections.command.pttl(position);
    expect(ttl).toBeGreaterThan(1000);
    expect(ttl).toBeLessThanOrEqual(1500);

    await vi.waitFor(async () => expect(await connections.command.exists(position)).toBe(0), {
      timeout: 5000,
      interval: 100,
    });
    // Its sequence forgotten: resuming from its id is a snapshot (undefined), as from any unknown id.
    expect(await sut.replay(clientStub, latest.id)).toBeUndefined();
  });
});
