import {
  isFinished,
  openSse,
  startTestServer,
  type Job,
  type RawSseStream,
  type RunningServer,
} from 'heygen-test-support';
import { afterAll, beforeAll, describe, expect, it, onTestFinished, vi } from 'vitest';
import { JobsClient } from './support/jobs-client.js';
import { startRedis, type TestRedis } from './support/redis-server.js';

/**
 * Several real heygen-api processes (the built dist) on one real redis-server: one deployment.
 * Started once for the file; the instance killed last is the last test's.
 */
let redis: TestRedis;
let a: RunningServer;
let b: RunningServer;

beforeAll(async () => {
  redis = await startRedis();
  const env = {
    JOBS_DRIVER: 'redis',
    REDIS_URL: redis.url,
    // A dead instance's jobs move on within 2 × 1 s.
    RUNNER_LOCK_MS: '1000',
    MAX_ACTIVE_JOBS_PER_CLIENT: '3',
  };
  [a, b] = await Promise.all([startTestServer(env), startTestServer(env)]);
}, 30_000);

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await redis?.stop();
});

/** Reads a stream's `job` events until every job in `ids` has finished; returns them in order. */
async function jobsUntilFinished(stream: RawSseStream, ids: number[]): Promise<Job[]> {
  const seen: Job[] = [];
  const open = new Set(ids);
  while (open.size > 0) {
    const event = await stream.nextNonHeartbeat(10_000);
    if (event.event !== 'job') continue;
    const job = event.data as Job;
    seen.push(job);
    if (isFinished(job)) open.delete(job.id);
  }
  return seen;
}

function stream(url: string, headers: Record<string, string> = {}): Promise<RawSseStream> {
  return openSse(url, headers).then((opened) => {
    onTestFinished(() => opened.destroy());
    return opened;
  });
}

describe('heygen-api instances sharing one Redis', () => {
  it('should stream on B, in order and once each, the jobs created on A', async () => {
    const onA = new JobsClient(a.url);
    const onB = new JobsClient(b.url, { clientId: onA.clientId });
    const events = await stream(onB.url('/status'));
    await events.nextEvent('connected');
    await events.nextEvent('snapshot');
    const jobs = [await onA.createOk({ duration: 300 }), await onA.createOk({ duration: 400 })];
    const seen = await jobsUntilFinished(
      events,
      jobs.map((job) => job.id),
    );
    for (const { id } of jobs) {
      const revisions = seen.filter((job) => job.id === id).map((job) => job.revision);
      expect(revisions).toEqual(revisions.map((_, i) => revisions[0]! + i));
      expect(seen.findLast((job) => job.id === id)?.status).toBe('completed');
    }
    expect((await onB.status(jobs[0]!.id)).body.status).toBe('completed');
  });

  it('should resume on B, with no gap and no duplicate, from an event id handed out by A', async () => {
    const onA = new JobsClient(a.url);
    const onB = new JobsClient(b.url, { clientId: onA.clientId });
    const first = await stream(onA.url('/status'));
    await first.nextEvent('snapshot');
    const job = await onA.createOk({ duration: 600 });
    await first.nextEvent('job');
    const lastEventId = first.lastEventId!;
    first.destroy();

    const resumed = await stream(onB.url('/status'), { 'Last-Event-ID': lastEventId });
    expect((await resumed.nextEvent<{ resumed: boolean }>('connected')).data.resumed).toBe(true);
    const rest = await jobsUntilFinished(resumed, [job.id]);
    expect(rest[0]!.revision).toBe(2);
    expect(rest.map((entry) => entry.revision)).toEqual(rest.map((_, i) => i + 2));
    expect(rest.at(-1)?.status).toBe('completed');
  });

  it('should cancel through B a job created on A, wherever it runs', async () => {
    const onA = new JobsClient(a.url);
    const onB = new JobsClient(b.url, { clientId: onA.clientId });
    const job = await onA.createOk({ duration: 5000 });
    await onA.waitFor(job.id, (current) => current.status === 'running');
    const cancelled = await onB.cancel(job.id);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe('cancelled');
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect((await onA.status(job.id)).body).toMatchObject({
      status: 'cancelled',
      revision: cancelled.body.revision,
    });
  });

  it("should count a client's unfinished jobs across instances, and replay an idempotency key on either", async () => {
    const onA = new JobsClient(a.url);
    const onB = new JobsClient(b.url, { clientId: onA.clientId });
    const key = { 'Idempotency-Key': 'across-instances' };
    const first = await onA.create({ duration: 3000 }, key);
    const replayed = await onB.create({ duration: 3000 }, key);
    expect(replayed.status).toBe(200);
    expect(replayed.body.id).toBe(first.body.id);
    await onB.createOk({ duration: 3000 });
    await onA.createOk({ duration: 3000 });
    const refused = await onB.create({ duration: 3000 });
    expect(refused.status).toBe(429);
    expect(refused.body.code).toBe('TOO_MANY_JOBS');
  });

  it('should finish, through B, the jobs of an instance killed while running them', async () => {
    const onA = new JobsClient(a.url);
    const onB = new JobsClient(b.url, { clientId: onA.clientId });
    const events = await stream(onB.url('/status'));
    await events.nextEvent('snapshot');
    // Both instances' workers take jobs: with three, A almost surely holds one.
    const jobs = [
      await onA.createOk({ duration: 1500 }),
      await onB.createOk({ duration: 1500 }),
      await onA.createOk({ duration: 1500 }),
    ];
    for (const job of jobs) await onB.waitFor(job.id, (current) => current.status === 'running');
    await a.stop('SIGKILL');
    const seen = await jobsUntilFinished(
      events,
      jobs.map((job) => job.id),
    );
    for (const { id } of jobs) {
      const finals = seen.filter((job) => job.id === id && isFinished(job));
      expect(finals).toHaveLength(1);
      expect(finals[0]!.status).toBe('completed');
      await vi.waitFor(async () => expect((await onB.status(id)).body.status).toBe('completed'));
    }
  });
});
