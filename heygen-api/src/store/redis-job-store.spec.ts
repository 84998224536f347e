import { describe, expect, it, onTestFinished } from 'vitest';
import { connectTestRedis, newPrefix, useTestRedis } from '../../test/support/redis-server.js';
import { clientStub, otherClientStub, thirdClientStub } from '../../test/unit/stubs.js';
import { cancel, complete, start } from '../domain/job.js';
import { RedisJobEvents } from '../events/redis-job-events.js';
import { eventLogKeys, positionsKey } from '../redis/event-log.js';
import { webhookKey } from '../redis/webhook-hash.js';
import { type WebhookDelivery } from '../webhooks/webhook-delivery.js';
import { RedisWebhookState } from '../webhooks/redis-webhook-state.js';
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

describe('RedisJobStore: MAX_RETAINED_JOBS', () => {
  const limits = { activePerClient: 10, keptPerClient: 10, active: 100 };
  const finish = async (store: RedisJobStore, clientId: string, keptPerClient = 10) => {
    const { record } = await store.create({
      clientId,
      duration: 1000,
      fail: false,
      now: Date.now(),
      limits: { ...limits, keptPerClient },
    });
    return store.update(clientId, record!.job.id, (job) => cancel(job, Date.now()));
  };

  it("should drop an evicted one-job client's events, and keep its last position resumable", async () => {
    const prefix = newPrefix();
    const env = { MAX_ACTIVE_JOBS: '1', MAX_RETAINED_JOBS: '1' };
    const { config, connections } = await connectTestRedis(redis, env, prefix);
    const store = new RedisJobStore(config, connections);
    const events = new RedisJobEvents(config, connections);
    events.onModuleInit();
    onTestFinished(() => events.onModuleDestroy());
    const finished = await finish(store, otherClientStub);
    const stream = `${prefix}{${otherClientStub}}:events`;
    expect(await connections.command.exists(stream)).toBe(1);

    await finish(store, clientStub);

    expect(await store.get(otherClientStub, finished!.job.id)).toBeUndefined();
    // The stream (4.7 KB of a one-job client's 6.8) goes with its last job; its latest id still
    // resumes, with nothing to replay, and its next job continues the sequence.
    expect(await connections.command.exists(stream)).toBe(0);
    expect(await events.replay(otherClientStub, finished!.event!.id)).toEqual([]);
    // Kept a log's time (RETENTION_MS), not the day a client's last position is kept otherwise,
    // and counted as expiring then (MAX_RETAINED_POSITIONS).
    const headSince = `${prefix}{${otherClientStub}}:head-since`;
    const lastPosition = await connections.command.pttl(headSince);
    expect(lastPosition).toBeGreaterThan(0);
    expect(lastPosition).toBeLessThanOrEqual(config.retentionMs);
    const counted = Number(await connections.command.zscore(positionsKey(prefix), headSince));
    expect(counted).toBeGreaterThan(Date.now());
    expect(counted).toBeLessThanOrEqual(Date.now() + config.retentionMs + 1000);
    // So does its id sequence, the clock being past it: its next id is still a new one.
    expect(await connections.command.exists(`${prefix}{${otherClientStub}}:meta`)).toBe(0);
    const next = await finish(store, otherClientStub);
    expect(next!.job.id).toBeGreaterThan(finished!.job.id);
    const replayed = await events.replay(otherClientStub, finished!.event!.id);
    expect(replayed?.map((event) => event.job.status)).toEqual(['pending', 'cancelled']);
    expect(replayed?.[1]).toEqual(next!.event);
  });

  const target = { url: 'http://receiver.test/hook', events: new Set(['completed'] as const) };
  /**
   * A finished job of `clientId` with a webhook whose final delivery is left in `state`, as the
   * dispatcher leaves it: its hash and attempts list exist.
   */
  const finishWithWebhook = async (
    store: RedisJobStore,
    webhooks: RedisWebhookState,
    clientId: string,
    state: WebhookDelivery['state'],
  ) => {
    const { record } = await store.create({
      clientId,
      duration: 1000,
      fail: false,
      now: Date.now(),
      limits,
    });
    const jobId = record!.job.id;
    await webhooks.subscribe(clientId, jobId, target);
    const finished = await store.update(clientId, jobId, (job) => cancel(job, Date.now()));
    const delivery: WebhookDelivery = {
      deliveryId: `d${jobId}`,
      clientId,
      jobId,
      eventId: finished!.event!.id,
      type: 'job.cancelled',
      body: '{}',
      attempts: 1,
      scheduled: 1,
      state,
    };
    await webhooks.addDelivery(delivery);
    await webhooks.saveDelivery(delivery);
    await webhooks.record(clientId, jobId, attemptOf(delivery));
    webhooks.finished(clientId, jobId);
    return delivery;
  };
  const attemptOf = (delivery: WebhookDelivery) => ({
    deliveryId: delivery.deliveryId,
    eventId: delivery.eventId,
    type: delivery.type,
    attempt: delivery.attempts,
    at: new Date().toISOString(),
    statusCode: delivery.state === 'delivered' ? 200 : 503,
    durationMs: 1,
  });

  it("should forget an evicted job's webhook with it, giving up the deliveries still retrying", async () => {
    const prefix = newPrefix();
    const env = { MAX_ACTIVE_JOBS: '2', MAX_RETAINED_JOBS: '2' };
    const { config, connections } = await connectTestRedis(redis, env, prefix);
    const store = new RedisJobStore(config, connections);
    const webhooks = new RedisWebhookState(config, connections);
    const keyOf = ({ clientId, jobId }: WebhookDelivery) => webhookKey(prefix, clientId, jobId);
    const keys = (key: string) => connections.command.exists(key, `${key}:attempts`);
    const settled = keyOf(await finishWithWebhook(store, webhooks, otherClientStub, 'delivered'));
    const pending = await finishWithWebhook(store, webhooks, thirdClientStub, 'pending');
    const retrying = keyOf(pending);
    // `finished` is not waited for: settled once it is marked.
    await expect.poll(() => connections.command.hget(settled, 'finished')).toBe('1');
    expect(await keys(settled)).toBe(2);

    // Two creations past the cap: each evicts the oldest finished job, the settled one first.
    await finish(store, clientStub);
    expect(await keys(settled)).toBe(0);
    expect(await keys(retrying)).toBe(2);
    const made = await store.create({
      clientId: clientStub,
      duration: 1000,
      fail: false,
      now: Date.now(),
      limits,
    });
    // Still pending, given up as the memory driver gives it up at this cap, and counted.
    expect(made).toMatchObject({ evicted: { retained: 1, webhooksGivenUp: 1 } });
    expect(await keys(retrying)).toBe(0);
    expect(await webhooks.subscription(thirdClientStub, pending.jobId)).toBeUndefined();

    // An attempt under way meanwhile: its later steps make nothing again.
    const after = { ...pending, attempts: 2 };
    expect(await webhooks.addDelivery({ ...after, deliveryId: 'late', eventId: 'late' })).toEqual(
      expect.objectContaining({ deliveryId: 'late' }),
    );
    await webhooks.saveDelivery(after);
    await webhooks.record(thirdClientStub, pending.jobId, attemptOf(after));
    expect(await webhooks.markGone(thirdClientStub, pending.jobId)).toEqual([]);
    expect(await keys(retrying)).toBe(0);
  });

  it("should keep the webhook still retrying of a job its client's own limit forgot", async () => {
    const prefix = newPrefix();
    const { config, connections } = await connectTestRedis(redis, {}, prefix);
    const store = new RedisJobStore(config, connections);
    const webhooks = new RedisWebhookState(config, connections);
    const pending = await finishWithWebhook(store, webhooks, clientStub, 'pending');

    // MAX_JOBS_PER_CLIENT of 1: the creation forgets the job, and the memory driver's webhook
    // state would keep its webhook until its schedule ends.
    await finish(store, clientStub, 1);
    expect(await store.get(clientStub, pending.jobId)).toBeUndefined();
    const delivery = await webhooks.delivery(clientStub, pending.jobId, pending.deliveryId);
    expect(delivery?.state).toBe('pending');
    expect(await webhooks.attempts(clientStub, pending.jobId)).toHaveLength(1);
  });

  it('should keep at most MAX_RETAINED_POSITIONS last positions of clients with no unfinished job', async () => {
    const prefix = newPrefix();
    const env = { MAX_RETAINED_POSITIONS: '2' };
    const { config, connections } = await connectTestRedis(redis, env, prefix);
    const store = new RedisJobStore(config, connections);
    const position = (clientId: string) =>
      connections.command.get(eventLogKeys(prefix, clientId)[1]);

    // Three clients, one job each, finished: each one's last position is counted as it ends.
    for (const clientId of [clientStub, otherClientStub, thirdClientStub]) {
      await finish(store, clientId);
    }
    // The first's went (the count's oldest), with its job still kept; the others are kept.
    expect(await position(clientStub)).toBeNull();
    expect(await store.listByClient(clientStub)).toHaveLength(1);
    expect(await position(otherClientStub)).not.toBeNull();
    expect(await position(thirdClientStub)).not.toBeNull();
    expect(await connections.command.zcard(positionsKey(prefix))).toBe(2);

    // A client with a job again is not counted until it has none: its position is set anew then.
    const { record } = await store.create({
      clientId: clientStub,
      duration: 1000,
      fail: false,
      now: Date.now(),
      limits,
    });
    expect(await connections.command.zcard(positionsKey(prefix))).toBe(2);
    const ended = await store.update(clientStub, record!.job.id, (job) => cancel(job, Date.now()));
    expect(await position(clientStub)).toBe(ended!.event!.id);
    expect(await connections.command.zcard(positionsKey(prefix))).toBe(2);
  });

  it('should count finished jobs once, however they were forgotten', async () => {
    const prefix = newPrefix();
    const env = { RETENTION_MS: '100' };
    const { config, connections } = await connectTestRedis(redis, env, prefix);
    const store = new RedisJobStore(config, connections);
    const finishedKey = `${prefix}finished`;

    // Evicted by the client's own limit (one kept), or past retention: out of the count.
    for (let i = 0; i < 3; i++) await finish(store, clientStub, 1);
    expect(await connections.command.zcard(finishedKey)).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 150));
    await finish(store, otherClientStub);
    expect(await connections.command.zcard(finishedKey)).toBe(1);
  });
});
