import { describe, expect, it, vi } from 'vitest';
import {
  clientStub,
  configStub,
  otherClientStub,
  strictMock,
  thirdClientStub,
} from '../../test/unit/stubs.js';
import { fakeClock } from 'heygen-test-support';
import { JobChanges } from '../changes/job-changes.js';
import { complete, start } from '../domain/job.js';
import { DomainError } from '../errors/domain-error.js';
import { InMemoryJobEvents } from '../events/in-memory-job-events.js';
import { type ApplyTransition, type JobRunner } from '../runner/job-runner.js';
import { InMemoryJobStore } from '../store/in-memory-job-store.js';
import { type JobWebhooks } from '../webhooks/job-webhooks.js';
import { JobsService } from './jobs.service.js';

/** The service with real in-memory collaborators and a runner that only records what it is asked. */
function newTestService(env: Record<string, string> = {}) {
  const config = configStub(env);
  const store = new InMemoryJobStore(config);
  const events = new InMemoryJobEvents(config);
  const appliesByKey = new Map<string, ApplyTransition>();
  const runner = {
    run: strictMock<JobRunner['run']>('run').mockImplementation((record, apply) => {
      appliesByKey.set(`${record.clientId}#${record.job.id}`, apply);
    }),
    stop: strictMock<JobRunner['stop']>('stop').mockImplementation(() => undefined),
  };
  const sut = new JobsService(config, store, events, runner);
  /** The runner's channel to the job `id` of clientStub (ids are per client). */
  const applies = { get: (id: number) => appliesByKey.get(`${clientStub}#${id}`) };
  return { sut, store, events, runner, applies };
}

const codeOf = async (promise: Promise<unknown>) =>
  promise.then(
    () => 'resolved',
    (error: unknown) => (error instanceof DomainError ? error.code : error),
  );

describe(JobsService.name, () => {
  it('should create a pending job, publish it and hand it to the runner', async () => {
    using _clock = fakeClock();
    const { sut, events, runner } = newTestService();
    const published = vi.fn();
    events.subscribe(clientStub, published);

    const { job, created } = await sut.create(clientStub, {});
    expect(created).toBe(true);
    expect(job).toMatchObject({ status: 'pending', duration: 1000 });
    expect(Number.isSafeInteger(job.id) && job.id > 0).toBe(true);
    expect(published).toHaveBeenCalledWith(expect.objectContaining({ job }));
    expect(runner.run).toHaveBeenCalledOnce();
  });

  it('should take duration and fail from the request', async () => {
    const { sut, store } = newTestService();
    const { job } = await sut.create(clientStub, { duration: 50, fail: true });
    expect(job.duration).toBe(50);
    expect((await store.get(clientStub, job.id))?.fail).toBe(true);
  });

  it('should refuse a duration over the maximum', async () => {
    const { sut } = newTestService({ MAX_JOB_TIME_MS: '2000' });
    expect(await codeOf(sut.create(clientStub, { duration: 2001 }))).toBe('INVALID_BODY');
  });

  it('should refuse a new job past the active-jobs limit, and accept one after a job finishes', async () => {
    const { sut, applies } = newTestService({ MAX_ACTIVE_JOBS_PER_CLIENT: '1' });
    const { job } = await sut.create(clientStub, {});
    expect(await codeOf(sut.create(clientStub, {}))).toBe('TOO_MANY_JOBS');
    expect(await codeOf(sut.create(otherClientStub, {}))).toBe('resolved');
    await applies.get(job.id)!(start);
    await applies.get(job.id)!(complete);
    expect(await codeOf(sut.create(clientStub, {}))).toBe('resolved');
  });

  it('should refuse a new job with SERVER_JOBS_FULL once every client together reaches MAX_ACTIVE_JOBS', async () => {
    const { sut, applies } = newTestService({ MAX_ACTIVE_JOBS: '2' });
    const { job } = await sut.create(clientStub, {});
    await sut.create(otherClientStub, {});
    let refusal: unknown;
    await sut.create(thirdClientStub, {}).catch((error: unknown) => (refusal = error));
    expect(refusal).toMatchObject({ code: 'SERVER_JOBS_FULL', retryAfterSeconds: 1 });
    await applies.get(job.id)!(start);
    await applies.get(job.id)!(complete);
    expect(await codeOf(sut.create(thirdClientStub, {}))).toBe('resolved');
  });

  it('should keep at most MAX_JOBS_PER_CLIENT jobs, forgetting the oldest finished one first', async () => {
    using _clock = fakeClock();
    const { sut, applies } = newTestService({
      MAX_JOBS_PER_CLIENT: '3',
      MAX_ACTIVE_JOBS_PER_CLIENT: '3',
    });
    const finish = async (id: number) => {
      await applies.get(id)!(start);
      await applies.get(id)!(complete);
    };
    const a = (await sut.create(clientStub, {})).job;
    const b = (await sut.create(clientStub, {})).job;
    const c = (await sut.create(clientStub, {})).job;
    await finish(b.id);
    await finish(a.id);

    const d = (await sut.create(clientStub, {})).job;
    expect((await sut.getMany(clientStub)).jobs.map((job) => job.id)).toEqual([a.id, c.id, d.id]);
    expect(await codeOf(sut.get(clientStub, b.id))).toBe('JOB_NOT_FOUND');
    await sut.create(clientStub, {}).catch(() => undefined);
    expect((await sut.getMany(clientStub)).jobs.map((job) => job.id)).toEqual([
      c.id,
      d.id,
      expect.any(Number),
    ]);
    // Only unfinished jobs are left: none is evicted, the creation is refused.
    expect(await codeOf(sut.create(clientStub, {}))).toBe('TOO_MANY_JOBS');
  });

  it("should number each client's jobs on its own, whatever other clients do", async () => {
    using _clock = fakeClock();
    const { sut } = newTestService();
    const first = (await sut.create(clientStub, {})).job;
    for (let i = 0; i < 5; i++) await sut.create(otherClientStub, {});
    const second = (await sut.create(clientStub, {})).job;
    expect(second.id - first.id).toBe(1);
  });

  it('should replay an idempotent creation, and refuse the same key with another body', async () => {
    const { sut, runner } = newTestService();
    const first = await sut.create(clientStub, { duration: 10 }, 'key-1');
    const again = await sut.create(clientStub, { duration: 10 }, 'key-1');
    expect(again).toEqual({ job: first.job, created: false });
    // Handed over again, in case the first hand-over was lost (the runner ignores a repeat).
    expect(runner.run).toHaveBeenCalledTimes(2);
    expect(await codeOf(sut.create(clientStub, { duration: 11 }, 'key-1'))).toBe(
      'IDEMPOTENCY_KEY_REUSED',
    );
  });

  it('should not hand a finished job to the runner again when its creation is replayed', async () => {
    using _clock = fakeClock();
    const { sut, runner, applies } = newTestService();
    const { job } = await sut.create(clientStub, { duration: 10 }, 'key-1');
    await applies.get(job.id)!(start);
    await applies.get(job.id)!(complete);

    await sut.create(clientStub, { duration: 10 }, 'key-1');

    expect(runner.run).toHaveBeenCalledOnce();
  });

  it("should answer another client's job exactly like a missing one", async () => {
    const { sut } = newTestService();
    const { job } = await sut.create(clientStub, {});
    expect(await codeOf(sut.get(otherClientStub, job.id))).toBe('JOB_NOT_FOUND');
    expect(await codeOf(sut.cancel(otherClientStub, job.id))).toBe('JOB_NOT_FOUND');
    expect(await sut.getMany(otherClientStub, [job.id])).toEqual({ jobs: [], missing: [job.id] });
  });

  it('should answer a batch in the order asked, once per id, with the missing ones apart', async () => {
    const { sut } = newTestService();
    const a = (await sut.create(clientStub, {})).job;
    const b = (await sut.create(clientStub, {})).job;
    const result = await sut.getMany(clientStub, [b.id, 99, a.id, b.id]);
    expect(result.jobs.map((job) => job.id)).toEqual([b.id, a.id]);
    expect(result.missing).toEqual([99]);
    expect((await sut.getMany(clientStub)).jobs.map((job) => job.id)).toEqual([a.id, b.id]);
  });

  it('should cancel an unfinished job, stop its work and publish it', async () => {
    const { sut, runner, events } = newTestService();
    const { job } = await sut.create(clientStub, {});
    const published = vi.fn();
    events.subscribe(clientStub, published);
    const cancelled = await sut.cancel(clientStub, job.id);
    expect(cancelled).toMatchObject({ status: 'cancelled', revision: 2 });
    expect(runner.stop).toHaveBeenCalledWith(clientStub, job.id);
    expect(published).toHaveBeenCalledWith(expect.objectContaining({ job: cancelled }));
  });

  it('should answer and keep each change with the id of its event (one cursor, issue 19)', async () => {
    const { sut, events, applies } = newTestService();
    const ids: string[] = [];
    events.subscribe(clientStub, (event) => ids.push(event.id));

    const { job } = await sut.create(clientStub, {});
    expect(job.eventId).toBe(ids[0]);
    expect((await sut.get(clientStub, job.id)).eventId).toBe(ids[0]);
    expect(await applies.get(job.id)!(start)).toMatchObject({ eventId: ids[1] });
    expect((await sut.getMany(clientStub, [job.id])).jobs[0]!.eventId).toBe(ids[1]);
    const cancelled = await sut.cancel(clientStub, job.id);
    expect(cancelled.eventId).toBe(ids[2]);
    expect(await sut.list(clientStub)).toEqual([cancelled]);
  });

  it('should refuse to cancel a finished job and leave it as it was', async () => {
    const { sut, applies } = newTestService();
    const { job } = await sut.create(clientStub, {});
    await applies.get(job.id)!(start);
    await applies.get(job.id)!(complete);
    expect(await codeOf(sut.cancel(clientStub, job.id))).toBe('JOB_FINISHED');
    expect((await sut.get(clientStub, job.id)).status).toBe('completed');
  });

  it('should register a webhook before the first change, and tell it every change after the creation', async () => {
    const config = configStub();
    const store = new InMemoryJobStore(config);
    const events = new InMemoryJobEvents(config);
    const applied: ApplyTransition[] = [];
    const runner = {
      run: strictMock<JobRunner['run']>('run').mockImplementation((_record, apply) => {
        applied.push(apply);
      }),
      stop: strictMock<JobRunner['stop']>('stop'),
    };
    const target = { url: 'https://example.com/hook', events: new Set(['completed'] as const) };
    const calls: string[] = [];
    const webhooks = {
      givenUpWithJobs: strictMock<JobWebhooks['givenUpWithJobs']>('givenUpWithJobs'),
      check: strictMock<JobWebhooks['check']>('check').mockResolvedValue(target),
      subscribe: strictMock<JobWebhooks['subscribe']>('subscribe').mockImplementation(() => {
        calls.push('subscribe');
        return Promise.resolve();
      }),
      changed: strictMock<JobWebhooks['changed']>('changed').mockImplementation((event) => {
        calls.push(`changed ${event.job.status} ${event.id}`);
        return Promise.resolve();
      }),
    };
    const published: string[] = [];
    events.subscribe(clientStub, (event) => published.push(event.id));
    const changes = new JobChanges(undefined, undefined, webhooks);
    const sut = new JobsService(config, store, events, runner, changes, webhooks);

    const { job } = await sut.create(clientStub, { webhook: target.url });
    await applied[0]!(start);
    expect(webhooks.subscribe).toHaveBeenCalledWith(clientStub, job.id, target);
    // The creation (pending) is no webhook event: the first told is the start.
    expect(calls).toEqual(['subscribe', `changed running ${published[1]}`]);
  });

  it('should subscribe the webhook before running a job its retried creation hands over (review of 2026-11-30)', async () => {
    const config = configStub();
    const store = new InMemoryJobStore(config);
    const events = new InMemoryJobEvents(config);
    const target = { url: 'https://example.com/hook', events: new Set(['running'] as const) };
    const calls: string[] = [];
    const runner = {
      run: strictMock<JobRunner['run']>('run').mockImplementation(() => void calls.push('run')),
      stop: strictMock<JobRunner['stop']>('stop'),
    };
    const webhooks = {
      givenUpWithJobs: strictMock<JobWebhooks['givenUpWithJobs']>('givenUpWithJobs'),
      check: strictMock<JobWebhooks['check']>('check').mockResolvedValue(target),
      subscribe: strictMock<JobWebhooks['subscribe']>('subscribe').mockImplementation(() => {
        calls.push('subscribe');
        return Promise.resolve();
      }),
      changed: strictMock<JobWebhooks['changed']>('changed').mockResolvedValue(undefined),
    };
    const sut = new JobsService(config, store, events, runner, new JobChanges(), webhooks);
    // A creation whose answer was lost (Redis paused): made, but neither subscribed nor run.
    const { record } = await store.create({
      clientId: clientStub,
      duration: 1000,
      fail: false,
      now: Date.now(),
      limits: { activePerClient: 10, keptPerClient: 10, active: 10 },
      idempotency: {
        key: 'k-1',
        fingerprint: JSON.stringify({
          duration: 1000,
          fail: false,
          webhook: target.url,
          events: ['running'],
        }),
      },
    });

    const retried = await sut.create(
      clientStub,
      { webhook: target.url, webhookEvents: ['running'] },
      'k-1',
    );

    expect(retried).toMatchObject({ created: false, job: { id: record!.job.id } });
    expect(webhooks.subscribe).toHaveBeenCalledWith(clientStub, record!.job.id, target);
    expect(calls).toEqual(['subscribe', 'run']);
  });

  it('should refuse a creation whose webhook the check refuses, creating nothing', async () => {
    const { sut, store } = newTestService();
    const webhooks = {
      givenUpWithJobs: strictMock<JobWebhooks['givenUpWithJobs']>('givenUpWithJobs'),
      check: strictMock<JobWebhooks['check']>('check').mockRejectedValue(
        new DomainError('WEBHOOK_URL_PRIVATE', 'private'),
      ),
      subscribe: strictMock<JobWebhooks['subscribe']>('subscribe'),
      changed: strictMock<JobWebhooks['changed']>('changed'),
    };
    const withHooks = new JobsService(
      configStub(),
      store,
      new InMemoryJobEvents(configStub()),
      { run: strictMock('run'), stop: strictMock('stop') },
      new JobChanges(undefined, undefined, webhooks),
      webhooks,
    );
    expect(await codeOf(withHooks.create(clientStub, { webhook: 'http://10.0.0.1/' }))).toBe(
      'WEBHOOK_URL_PRIVATE',
    );
    expect(await sut.list(clientStub)).toEqual([]);
  });
});
