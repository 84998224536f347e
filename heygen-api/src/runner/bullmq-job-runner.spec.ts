import { Job as QueueJob, Queue } from 'bullmq';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { connectTestRedis, newPrefix, useTestRedis } from '../../test/support/redis-server.js';
import { clientStub } from '../../test/unit/stubs.js';
import { JobChanges } from '../changes/job-changes.js';
import { type JobWatches } from '../deadlines/job-watches.js';
import { type ClientKey } from '../domain/client.js';
import { isFinished, start, type Job } from '../domain/job.js';
import { storeUnavailable } from '../errors/domain-error.js';
import { type JobEvent } from '../events/job-events.js';
import { RedisJobEvents } from '../events/redis-job-events.js';
import { AppMetrics } from '../metrics/app-metrics.js';
import { type JobWebhooks } from '../webhooks/job-webhooks.js';
import { RedisJobStore } from '../store/redis-job-store.js';
import { bullmqConnection } from '../redis/bullmq.js';
import { BullmqJobRunner, QUEUE_NAME } from './bullmq-job-runner.js';
import { describeJobRunnerContract } from './job-runner.contract.js';

const redis = useTestRedis();

describeJobRunnerContract('BullMQ, two instances on Redis', async (env = {}) => {
  const prefix = newPrefix();
  const instances = await Promise.all(
    [0, 1].map(async () => {
      const { config, connections } = await connectTestRedis(
        redis,
        { JOB_TIME: '300', RUNNER_LOCK_MS: '1000', ...env },
        prefix,
      );
      const store = new RedisJobStore(config, connections);
      const events = new RedisJobEvents(config, connections);
      const runner = new BullmqJobRunner(config, connections, store, events);
      events.onModuleInit();
      runner.onModuleInit();
      let stopped: Promise<void> | undefined;
      const shutdown = () => (stopped ??= runner.beforeApplicationShutdown());
      // Before the connections close (registered earlier, so run later).
      onTestFinished(shutdown);
      return { store, events, runner, shutdown };
    }),
  );
  const [a, b] = instances as [(typeof instances)[0], (typeof instances)[0]];
  return {
    runners: [a.runner, b.runner],
    store: a.store,
    events: b.events,
    shutdown: (i) => instances[i]!.shutdown(),
  };
});

/**
 * Redis paused past the command timeout: a change is made when it wakes, but its answer never
 * comes. Here the final change's first answer is lost; the retry finds it made.
 */
class FinalAnswerLost extends RedisJobStore {
  private lost = false;
  override async update(...args: Parameters<RedisJobStore['update']>) {
    const updated = await super.update(...args);
    if (!this.lost && updated && isFinished(updated.job)) {
      this.lost = true;
      throw storeUnavailable();
    }
    return updated;
  }
}

/** One instance's runner on a store of `Store`, with the webhooks' changes recorded in `told`. */
async function oneInstance(
  env: Record<string, string>,
  Store = RedisJobStore,
  draft: { cancelAt?: number; duration?: number } = {},
) {
  const { config, connections } = await connectTestRedis(redis, env, newPrefix());
  const store = new Store(config, connections);
  const events = new RedisJobEvents(config, connections);
  const told: Job[] = [];
  const webhooks = {
    changed: (event: JobEvent) => {
      told.push(event.job);
      return Promise.resolve();
    },
  } as unknown as JobWebhooks;
  const forgotten: number[] = [];
  const watches = {
    forget: (_clientId: ClientKey, id: number) => forgotten.push(id),
  } as unknown as JobWatches;
  const changes = new JobChanges(new AppMetrics(), undefined, webhooks, watches);
  const runner = new BullmqJobRunner(config, connections, store, events, new AppMetrics(), changes);
  events.onModuleInit();
  runner.onModuleInit();
  onTestFinished(() => runner.beforeApplicationShutdown());
  const { record } = await store.create({
    clientId: clientStub,
    duration: 100,
    fail: false,
    now: Date.now(),
    limits: { activePerClient: 10, keptPerClient: 10, active: 10 },
    ...draft,
  });
  return { store, runner, told, forgotten, connections, record: record! };
}

describe(`${BullmqJobRunner.name}: what a job opted into`, () => {
  const env = { JOB_TIME: '100', PROGRESS_INTERVAL_MS: '30', RUNNER_LOCK_MS: '5000' };
  const statuses = (told: Job[]) => told.map((job) => job.status);

  it('should neither ask the webhooks nor forget a watch of a job created without them', async () => {
    const { store, runner, told, forgotten, record } = await oneInstance(env);

    runner.run(record, () => Promise.resolve(undefined), { webhook: false, watched: false });

    await vi.waitFor(
      async () =>
        expect((await store.get(clientStub, record.job.id))?.job.status).toBe('completed'),
      { timeout: 5000, interval: 20 },
    );
    expect(told).toEqual([]);
    expect(forgotten).toEqual([]);
  });

  it.each([
    ['with them', { webhook: true, watched: true }],
    ['unknown', {}],
  ])('should tell every change of a job whose opt-ins are %s', async (_, optIns) => {
    const { runner, told, forgotten, record } = await oneInstance(env);

    runner.run(record, () => Promise.resolve(undefined), optIns);

    await vi.waitFor(() => expect(statuses(told)).toContain('completed'), { timeout: 5000 });
    expect(statuses(told)[0]).toBe('running');
    expect(told.some((job) => job.progress > 0 && job.status === 'running')).toBe(true);
    expect(forgotten).toEqual([record.job.id]);
  });
});

describe(`${BullmqJobRunner.name}: answers lost to a paused Redis`, () => {
  it('should tell the webhooks of a change whose answer was lost though Redis made it', async () => {
    const env = { JOB_TIME: '100', PROGRESS_INTERVAL_MS: '60000', RUNNER_LOCK_MS: '5000' };
    const { runner, told, record } = await oneInstance(env, FinalAnswerLost);

    runner.run(record, () => Promise.resolve(undefined));

    await vi.waitFor(() => expect(told.map((job) => job.status)).toContain('completed'), {
      timeout: 5000,
    });
  });

  it('should run a job left pending by a creation never handed to the queue', async () => {
    // Created in Redis, but its answer, and so its hand-over to the runner, were lost.
    const { store, record } = await oneInstance({ JOB_TIME: '100', RUNNER_LOCK_MS: '300' });

    await vi.waitFor(
      async () =>
        expect((await store.get(clientStub, record.job.id))?.job.status).toBe('completed'),
      { timeout: 5000, interval: 50 },
    );
    expect(await store.stillPending(0, 10)).toEqual([]);
  });

  it('should keep the Cancel-After deadline of a job it queues again', async () => {
    const { store, record } = await oneInstance({ RUNNER_LOCK_MS: '300' }, RedisJobStore, {
      duration: 5000,
      cancelAt: Date.now() + 800,
    });

    await vi.waitFor(
      async () =>
        expect((await store.get(clientStub, record.job.id))?.job.status).toBe('cancelled'),
      { timeout: 5000, interval: 50 },
    );
    expect((await store.get(clientStub, record.job.id))?.job.error?.code).toBe('DEADLINE');
  });
});

describe(`${BullmqJobRunner.name}: instances that die`, () => {
  it('should fail a job whose instances died more than BullMQ allows, whatever its attempts (review of 2026-12-01)', async () => {
    const prefix = newPrefix();
    const env = { JOB_TIME: '60000', PROGRESS_INTERVAL_MS: '60000', RUNNER_LOCK_MS: '300' };
    const instance = async () => {
      const { config, connections } = await connectTestRedis(redis, env, prefix);
      const store = new RedisJobStore(config, connections);
      const events = new RedisJobEvents(config, connections);
      const runner = new BullmqJobRunner(config, connections, store, events);
      events.onModuleInit();
      runner.onModuleInit();
      onTestFinished(() => runner.beforeApplicationShutdown());
      return { store, runner, connections };
    };
    const dying = await instance();
    const { record } = await dying.store.create({
      clientId: clientStub,
      duration: 60_000,
      fail: false,
      now: Date.now(),
      limits: { activePerClient: 10, keptPerClient: 10, active: 10 },
    });
    const id = record!.job.id;
    dying.runner.run(record!, () => Promise.resolve(undefined));
    await vi.waitFor(
      async () => expect((await dying.store.get(clientStub, id))?.job.status).toBe('running'),
      { timeout: 5000, interval: 20 },
    );

    // Its instances died ten times already; this one dies too, holding it (no hand-over).
    const queued = `${prefix}bull:jobs:${encodeURIComponent(clientStub)}@${id}`;
    await dying.connections.command.hset(queued, 'stc', '10');
    await (
      dying.runner as unknown as { worker: { close(force: boolean): Promise<void> } }
    ).worker.close(true);
    const survivor = await instance();

    // BullMQ fails it at the next stall check, at its first of five attempts: it stayed running.
    await vi.waitFor(
      async () => expect((await survivor.store.get(clientStub, id))?.job.status).toBe('failed'),
      { timeout: 10_000, interval: 50 },
    );
    expect((await survivor.store.get(clientStub, id))?.job.error?.code).toBe('RUNNER_FAILED');
  });
});

describe(`${BullmqJobRunner.name}: processing that keeps failing`, () => {
  it.each(['running', 'pending'] as const)(
    'should fail a %s job whose processing failed five times with RUNNER_FAILED',
    async (where) => {
      const env = { JOB_TIME: '60000', PROGRESS_INTERVAL_MS: '60000', RUNNER_LOCK_MS: '5000' };
      const { store, runner, connections, record } = await oneInstance(env);
      const id = record.job.id;
      // Pending: no attempt got as far as the job's first step.
      if (where === 'running') await store.update(clientStub, id, (job) => start(job, Date.now()));
      // A fault of our own code: every processing of the job throws, on whichever attempt.
      let failures = 0;
      Object.assign(runner, {
        process: () => {
          failures += 1;
          return Promise.reject(new Error('processing failed'));
        },
      });
      // BullMQ waits 1, 2, 4 then 8 s before the next attempt: the test moves each one up.
      const queue = new Queue(QUEUE_NAME, bullmqConnection(connections, 'test'));
      onTestFinished(() => queue.close());
      const queuedId = `${encodeURIComponent(clientStub)}@${id}`;
      const stored = async () => (await store.get(clientStub, id))?.job;

      runner.run(record, () => Promise.resolve(undefined));

      for (let failed = 1; failed < 5; failed++) {
        await vi.waitFor(async () => expect(await queue.getJobState(queuedId)).toBe('delayed'), {
          timeout: 5000,
          interval: 20,
        });
        expect(failures).toBe(failed);
        // An attempt is still to be made: the job is not failed yet.
        expect((await stored())?.status).toBe(where);
        await (await QueueJob.fromId(queue, queuedId))!.promote();
      }
      await vi.waitFor(async () => expect((await stored())?.status).toBe('failed'), {
        timeout: 5000,
        interval: 20,
      });
      expect((await stored())?.error?.code).toBe('RUNNER_FAILED');
      expect(failures).toBe(5);
      expect(await queue.getJobState(queuedId)).toBe('failed');
    },
  );
});
