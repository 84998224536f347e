import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { connectTestRedis, useTestRedis } from '../../test/support/redis-server.js';
import { startReceiver } from '../../test/support/webhook-receiver.js';
import { clientStub, configStub } from '../../test/unit/stubs.js';
import { cancel, complete, newJob, progressTo, start, type Job } from '../domain/job.js';
import { storeUnavailable } from '../errors/domain-error.js';
import { type JobEvent } from '../events/job-events.js';
import { AppMetrics } from '../metrics/app-metrics.js';
import { InMemoryWebhookQueue } from './in-memory-webhook-queue.js';
import { InMemoryWebhookState } from './in-memory-webhook-state.js';
import { WebhookDispatcher } from './webhook-dispatcher.js';
import { type WebhookEventName } from './webhook-events.js';
import { WebhookSecrets } from './webhook-secrets.js';
import { RedisWebhookState } from './redis-webhook-state.js';
import { type WebhookDelivery } from './webhook-delivery.js';
import { type WebhookState } from './webhook-state.js';

const JOB_ID = 17;
let sequence = 0;
const redis = useTestRedis();

const ENV = { WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_RETRY_SCHEDULE: '0' };

/** The webhook state of each driver, on its real store. */
const STATES: [string, () => Promise<WebhookState>][] = [
  ['memory', () => Promise.resolve(new InMemoryWebhookState(configStub(ENV)))],
  [
    'redis',
    async () => {
      const { config, connections } = await connectTestRedis(redis, ENV);
      return new RedisWebhookState(config, connections);
    },
  ],
];

/**
 * The dispatcher on a real state (the memory driver's unless given), queue and sender;
 * `lookupMs` makes each subscription lookup of the memory state take that long and answer a
 * copy, as a Redis round trip does.
 */
function newDispatcher({
  lookupMs = 0,
  progressIntervalMs = 500,
  state = new InMemoryWebhookState(configStub(ENV)),
  env = {},
}: {
  lookupMs?: number;
  progressIntervalMs?: number;
  state?: WebhookState;
  env?: Record<string, string>;
} = {}) {
  const config = configStub({
    ...ENV,
    ...env,
    WEBHOOK_PROGRESS_INTERVAL_MS: String(progressIntervalMs),
  });
  if (lookupMs > 0) {
    const lookup = state.subscription.bind(state);
    state.subscription = async (clientId, jobId) => {
      const found = await lookup(clientId, jobId);
      await new Promise((resolve) => setTimeout(resolve, lookupMs));
      return found && { ...found };
    };
  }
  const queue = new InMemoryWebhookQueue();
  const sut = new WebhookDispatcher(
    config,
    queue,
    state,
    new WebhookSecrets(config),
    new AppMetrics(),
  );
  onTestFinished(() => {
    sut.beforeApplicationShutdown();
    queue.onModuleDestroy();
  });
  return { sut };
}

const eventOf = (job: Job): JobEvent => ({ id: String(++sequence), clientId: clientStub, job });

/**
 * Redis dropping its connection once under each of `steps`: the first call of each fails with
 * STORE_UNAVAILABLE, as a command in flight does on a reset, and the next ones reach Redis.
 */
function blipping(
  state: WebhookState,
  steps: (keyof WebhookState)[],
  /** The step is made before its answer is lost, as when Redis ran it. */
  { made = false } = {},
): WebhookState {
  const calls = state as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  for (const step of steps) {
    const real = calls[step]!.bind(state);
    let failed = false;
    calls[step] = async (...args) => {
      if (failed) return real(...args);
      failed = true;
      if (made) await real(...args);
      throw storeUnavailable();
    };
  }
  return state;
}

/**
 * A receiver (answering as `answer` says, 200 by default), the job subscribed to it for
 * `events`, and the job started now.
 */
async function subscribed(
  sut: WebhookDispatcher,
  events: WebhookEventName[],
  answer?: Parameters<typeof startReceiver>[0],
) {
  const receiver = await startReceiver(answer);
  await sut.subscribe(clientStub, JOB_ID, { url: receiver.url, events: new Set(events) });
  const now = Date.now();
  return { receiver, now, running: start(newJob(JOB_ID, 10_000, now), now)! };
}

describe(WebhookDispatcher.name, () => {
  it.each(STATES)(
    'should leave a delivery delivered by a manual retry while an automatic attempt failed, %s state (review of 2026-12-02)',
    async (_driver, newState) => {
      const state = await newState();
      const { sut } = newDispatcher({ state, env: { WEBHOOK_RETRY_SCHEDULE: '0,300' } });
      // The automatic attempt is answered 500 after 500 ms, the manual one 200 at once.
      const { receiver, running, now } = await subscribed(
        sut,
        ['completed'],
        (_req, res, index) => {
          if (index > 0) res.end('ok');
          else setTimeout(() => res.writeHead(500).end(), 500);
        },
      );
      await sut.changed(eventOf(complete(running, now + 1)!));
      await vi.waitFor(() => expect(receiver.received).toHaveLength(1));
      const deliveryId = (await state.subscription(clientStub, JOB_ID))!.latestDeliveryId!;

      await sut.retry(clientStub, JOB_ID, deliveryId);
      await vi.waitFor(async () => {
        const { attempts } = await sut.history(clientStub, JOB_ID);
        expect(attempts.map(({ statusCode }) => statusCode).sort()).toEqual([200, 500]);
      });

      // The automatic attempt's copy, read before its POST, said pending: saved, it scheduled
      // the webhook again after the receiver had it.
      const delivery = await state.delivery(clientStub, JOB_ID, deliveryId);
      expect(delivery).toMatchObject({ state: 'delivered' });
      expect(delivery?.nextAttemptAt).toBeUndefined();
    },
  );

  it.each(STATES)(
    'should keep a delivery delivered when a copy of it from before saves it pending, %s state (review of 2026-12-02)',
    async (_driver, newState) => {
      const state = await newState();
      const { sut } = newDispatcher({ state });
      const { receiver, running, now } = await subscribed(sut, ['completed']);
      await sut.changed(eventOf(complete(running, now + 1)!));
      await vi.waitFor(() => expect(receiver.received).toHaveLength(1));
      const deliveryId = (await state.subscription(clientStub, JOB_ID))!.latestDeliveryId!;
      await vi.waitFor(async () =>
        expect(await state.delivery(clientStub, JOB_ID, deliveryId)).toMatchObject({
          state: 'delivered',
        }),
      );
      const delivered = (await state.delivery(clientStub, JOB_ID, deliveryId))!;

      // What an attempt that failed meanwhile saves: its copy, pending, with a retry.
      await state.saveDelivery({ ...delivered, state: 'pending', nextAttemptAt: now + 60_000 });

      const kept = await state.delivery(clientStub, JOB_ID, deliveryId);
      expect(kept).toMatchObject({ state: 'delivered' });
      expect(kept?.nextAttemptAt).toBeUndefined();
    },
  );

  it.each(STATES)(
    'should deliver a final change whose every step met a Redis connection reset, %s state (review of 2026-12-01)',
    async (_driver, newState) => {
      const state = blipping(await newState(), [
        'subscription',
        'addDelivery',
        'delivery',
        'saveDelivery',
        'record',
      ]);
      const { sut } = newDispatcher({ state });
      const { receiver, running, now } = await subscribed(sut, ['completed']);

      await sut.changed(eventOf(complete(running, now + 1)!));

      await vi.waitFor(() => expect(receiver.received).toHaveLength(1), { timeout: 5000 });
      expect(JSON.parse(receiver.received[0]!.body)).toMatchObject({ type: 'job.completed' });
      await vi.waitFor(async () => {
        const { attempts } = await sut.history(clientStub, JOB_ID);
        expect(attempts).toMatchObject([{ type: 'job.completed', statusCode: 200 }]);
      });
    },
  );

  it.each(STATES)(
    "should send no progress heard after the job's final change, %s state (review of 2026-12-01)",
    async (_driver, newState) => {
      const { sut } = newDispatcher({ state: await newState() });
      const { receiver, running, now } = await subscribed(sut, ['progress', 'cancelled']);
      const progressed = progressTo(40)(running, now + 1)!;
      const cancelled = cancel(progressed, now + 2)!;

      // The cancel, made on one instance, is told before a progress change the runner's instance
      // held back and tells late.
      await sut.changed(eventOf(cancelled));
      await sut.changed(eventOf(progressed));

      await vi.waitFor(() => expect(receiver.received).toHaveLength(1));
      expect(JSON.parse(receiver.received[0]!.body)).toMatchObject({ type: 'job.cancelled' });
      // A delivery made of it would have been attempted at once (the schedule starts at 0).
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(receiver.received).toHaveLength(1);
      expect((await sut.history(clientStub, JOB_ID)).attempts.map((a) => a.type)).toEqual([
        'job.cancelled',
      ]);
    },
  );

  it('should record an attempt once though the answer of its record was lost, redis state (review of 2026-12-01)', async () => {
    const { config, connections } = await connectTestRedis(redis, ENV);
    const state = blipping(new RedisWebhookState(config, connections), ['record'], { made: true });
    const { sut } = newDispatcher({ state });
    const { receiver, running, now } = await subscribed(sut, ['completed']);

    await sut.changed(eventOf(complete(running, now + 1)!));

    await vi.waitFor(() => expect(receiver.received).toHaveLength(1));
    await vi.waitFor(async () => {
      expect((await sut.history(clientStub, JOB_ID)).attempts).toHaveLength(1);
    });
    await new Promise((resolve) => setTimeout(resolve, 300)); // past the step's retry
    expect((await sut.history(clientStub, JOB_ID)).attempts).toHaveLength(1);
  });

  it("should keep a finished job's webhook RETENTION_MS once its deliveries settled, not the whole retry schedule, redis state (review of 2026-12-02)", async () => {
    // The default schedule, a day and a half: how long a webhook with a retry pending is kept.
    const env = { WEBHOOK_RETRY_SCHEDULE: '' };
    const { config, connections } = await connectTestRedis(redis, { ...ENV, ...env });
    const { sut } = newDispatcher({ state: new RedisWebhookState(config, connections), env });
    const settledMs = config.retentionMs + 60_000;
    // Job 1's receiver answers 200, job 2's 500 (its delivery stays pending, a retry in 5 s).
    const receiver = await startReceiver((req, res) => {
      res.statusCode = req.url?.endsWith('/fails') ? 500 : 200;
      res.end();
    });
    const now = Date.now();
    const jobs = [1, 2].map((id) => start(newJob(id, 10_000, now), now)!);
    for (const [i, url] of [receiver.url, `${receiver.url}/fails`].entries()) {
      await sut.subscribe(clientStub, jobs[i]!.id, { url, events: new Set(['completed']) });
    }
    const ttls = (id: number) => {
      const key = `${connections.prefix}{${clientStub}}:webhook:${id}`;
      return Promise.all([
        connections.command.pttl(key),
        connections.command.pttl(`${key}:attempts`),
      ]);
    };

    for (const job of jobs) await sut.changed(eventOf(complete(job, now + 1)!));

    await vi.waitFor(async () => {
      for (const id of [1, 2]) expect((await sut.history(clientStub, id)).attempts).toHaveLength(1);
    });
    // Delivered: kept as long as its job is (RETENTION_MS), and a minute; it was kept for
    // MAX_JOB_TIME_MS + the whole schedule, 28 h by default, 168 times its job.
    for (const ttl of await ttls(1)) {
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(settledMs);
    }
    // A retry pending: kept for the schedule, as before.
    for (const ttl of await ttls(2)) expect(ttl).toBeGreaterThan(24 * 3600_000);
    expect((await sut.history(clientStub, 1)).attempts).toMatchObject([{ statusCode: 200 }]);
  });

  it("should keep a settled webhook's attempts as long again as its hash when a delivery is added after, redis state (review of 2026-12-02)", async () => {
    const { config, connections } = await connectTestRedis(redis, { WEBHOOK_RETRY_SCHEDULE: '' });
    const state = new RedisWebhookState(config, connections);
    const key = `${connections.prefix}{${clientStub}}:webhook:${JOB_ID}`;
    const delivery = (eventId: string, type: WebhookDelivery['type']): WebhookDelivery => ({
      deliveryId: `d-${eventId}`,
      clientId: clientStub,
      jobId: JOB_ID,
      eventId,
      type,
      body: '{}',
      attempts: 1,
      scheduled: 1,
      state: 'delivered',
    });
    await state.subscribe(clientStub, JOB_ID, {
      url: 'http://127.0.0.1:9/hook',
      events: new Set(['running', 'completed']),
    });
    const final = delivery('2', 'job.completed');
    await state.addDelivery({ ...final, state: 'pending' });
    state.finished(clientStub, JOB_ID);
    await state.saveDelivery(final);
    await state.record(clientStub, JOB_ID, {
      deliveryId: final.deliveryId,
      eventId: final.eventId,
      type: final.type,
      attempt: 1,
      at: new Date().toISOString(),
      statusCode: 200,
      durationMs: 1,
    });
    expect(await connections.command.pttl(`${key}:attempts`)).toBeLessThanOrEqual(
      config.retentionMs + 60_000,
    );

    // A change told late (the runner's instance held it while another ended the job), whose
    // receiver then fails for the schedule: its history keeps the attempts made before.
    await state.addDelivery({ ...delivery('1', 'job.running'), state: 'pending' });

    for (const name of [key, `${key}:attempts`]) {
      expect(await connections.command.pttl(name)).toBeGreaterThan(24 * 3600_000);
    }
  });

  it("should drop a progress change held back when the job's final change comes, though the lookup is slow (review of 2026-12-01)", async () => {
    // The held change's window ends while the final change's lookup is on its way.
    const { sut } = newDispatcher({ lookupMs: 20, progressIntervalMs: 100 });
    const { receiver, running, now } = await subscribed(sut, ['progress', 'completed']);
    const first = progressTo(10)(running, now + 1)!;
    const second = progressTo(20)(first, now + 2)!;

    await sut.changed(eventOf(first)); // sent at once: its window opens
    await sut.changed(eventOf(second)); // held until the window ends
    await new Promise((resolve) => setTimeout(resolve, 60));
    await sut.changed(eventOf(complete(second, now + 3)!));

    await vi.waitFor(() => expect(receiver.received).toHaveLength(2));
    await new Promise((resolve) => setTimeout(resolve, 200));
    const types = receiver.received.map((r) => (JSON.parse(r.body) as { type: string }).type);
    expect(types).toEqual(['job.progress', 'job.completed']);
  });
});
