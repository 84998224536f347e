import { describe, expect, it, onTestFinished } from 'vitest';
import { connectTestRedis, newPrefix, useTestRedis } from '../../test/support/redis-server.js';
import { clientStub } from '../../test/unit/stubs.js';
import { complete, start } from '../domain/job.js';
import { RedisJobEvents } from '../events/redis-job-events.js';
import { describeJobStoreContract } from './job-store.contract.js';
import { RedisJobStore } from './redis-job-store.js';

const redis = useTestRedis();

describeJobStoreContract('Redis', async (env = {}) => {
  // Two instances: two sets of connections under one prefix, as two processes would have.
  const prefix = newPrefix();
  const a = await connectTestRedis(redis, env, prefix);
  const b = await connectTestRedis(redis, env, prefix);
  return {
    sut: new RedisJobStore(a.config, a.connections),
    peer: new RedisJobStore(b.config, b.connections),
  };
});

describe('RedisJobStore: a change and its event, one script', () => {
  it('should log the created job and each change in the call that stores it, with nothing published besides', async () => {
    const prefix = newPrefix();
    const a = await connectTestRedis(redis, {}, prefix);
    const b = await connectTestRedis(redis, {}, prefix);
    const store = new RedisJobStore(a.config, a.connections);
    // Another instance streaming the client: it hears only what the store's scripts published.
    const events = new RedisJobEvents(b.config, b.connections);
    events.onModuleInit();
    onTestFinished(() => events.onModuleDestroy());
    const live: unknown[] = [];
    events.subscribe(clientStub, (event) => live.push(event));
    const head = await events.head(clientStub);

    const created = await store.create({
      clientId: clientStub,
      duration: 1000,
      fail: false,
      now: Date.now(),
      limits: { activePerClient: 10, keptPerClient: 10, active: 100 },
    });
    const id = created.record!.job.id;
    expect(created.event).toMatchObject({ clientId: clientStub, job: created.record!.job });
    expect(created.event?.id).toMatch(/^\d+$/);
    const started = await store.update(clientStub, id, (job) => start(job, Date.now()));
    const completed = await store.update(clientStub, id, (job) => complete(job, Date.now()));
    const logged = [created.event, started!.event, completed!.event];
    expect(logged.map((event) => event?.job.status)).toEqual(['pending', 'running', 'completed']);
    // Each state is stored and logged with the id of its event (issue 19).
    for (const event of logged) expect(event?.job.eventId).toBe(event?.id);
    expect((await store.get(clientStub, id))?.job).toEqual(completed!.event!.job);

    // In the stream as soon as each call returned, and live on the other instance, in order.
    expect(await events.replay(clientStub, head)).toEqual(logged);
    await expect.poll(() => live).toEqual(logged);
    // Declined or unknown: nothing stored, nothing logged.
    expect(await store.update(clientStub, id, () => undefined)).toBeUndefined();
    expect(await events.replay(clientStub, completed!.event!.id)).toEqual([]);
  });

  it("should keep the client's events while it has an unfinished job, however quiet (review of 2026-12-01)", async () => {
    const prefix = newPrefix();
    const { config, connections } = await connectTestRedis(redis, { RETENTION_MS: '1000' }, prefix);
    const store = new RedisJobStore(config, connections);
    const events = new RedisJobEvents(config, connections);
    events.onModuleInit();
    onTestFinished(() => events.onModuleDestroy());
    const limits = { activePerClient: 10, keptPerClient: 10, active: 100 };
    const create = () =>
      store.create({
        clientId: clientStub,
        duration: 600_000,
        fail: false,
        now: Date.now(),
        limits,
      });
    const created = await create();
    const id = created.record!.job.id;
    const started = await store.update(clientStub, id, (job) => start(job, Date.now()));

    // Quiet for longer than a log is kept after its last event.
    await new Promise((resolve) => setTimeout(resolve, 1500));

    // It expired: a catch-up from the running job's eventId was refused (410) for good, and one
    // from its creation's could not be replayed.
    expect(await events.replay(clientStub, started!.event!.id)).toEqual([]);
    expect(await events.replay(clientStub, created.event!.id)).toEqual([started!.event]);
    // Once the client has no unfinished job, its log is kept a log's time after its last event.
    const completed = await store.update(clientStub, id, (job) => complete(job, Date.now()));
    const stream = `${connections.prefix}{${clientStub}}:events`;
    expect(await connections.command.pttl(stream)).toBeGreaterThan(0);
    expect(await events.replay(clientStub, completed!.event!.id)).toEqual([]);
  });
});
