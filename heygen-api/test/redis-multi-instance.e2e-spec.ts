import { HeyGenAPI, HeyGenStatusListenerMode, type JobStatus } from 'heygen-lib';
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
import { useTestRedis } from './support/redis-server.js';
import { requestOnce } from './support/request-once.js';
import { startRoundRobinProxy, type RoundRobinProxy } from './support/round-robin-proxy.js';

/**
 * Three real heygen-api processes (the built dist) on one real redis-server, behind a round-robin
 * TCP proxy: one deployment, started once for the file. Tests run in order and the last ones are
 * destructive: one kills an instance, the last restarts them all.
 */
const redis = useTestRedis();
let instances: RunningServer[];
let proxy: RoundRobinProxy;

const startInstances = (): Promise<RunningServer[]> =>
  Promise.all(
    [0, 1, 2].map(() =>
      startTestServer({
        JOBS_DRIVER: 'redis',
        REDIS_URL: redis.url,
        // A dead instance's jobs move on within 2 × 1 s.
        RUNNER_LOCK_MS: '1000',
        // One job at a time per instance: three running jobs are one on each instance.
        RUNNER_CONCURRENCY: '1',
        MAX_ACTIVE_JOBS_PER_CLIENT: '3',
        // Few heartbeats: these tests read job events, and a quiet stream is easier to follow.
        HEARTBEAT_MS: '15000',
      }),
    ),
  );

beforeAll(async () => {
  instances = await startInstances();
  proxy = await startRoundRobinProxy(instances);
}, 60_000);

afterAll(async () => {
  await proxy?.close();
  await Promise.all((instances ?? []).map((instance) => instance.stop()));
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

/** The statuses a job went through, each once: `pending, running, running` is `pending, running`. */
const statusesOf = (copies: Job[]): JobStatus[] =>
  copies.map((job) => job.status).filter((status, i, all) => status !== all[i - 1]);

/** Jobs an instance is running now, as its /health reports them. */
async function runningJobs(instance: RunningServer): Promise<number> {
  const { body } = await requestOnce<{ info: { redis: { runningJobs: number } } }>(
    `${instance.url}/health`,
  );
  return body.info.redis.runningJobs;
}

describe('heygen-api instances sharing one Redis', () => {
  it('should stream on B, in order and once each, the jobs created on A', async () => {
    const [a, b] = instances as [RunningServer, RunningServer];
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
    const [a, b] = instances as [RunningServer, RunningServer];
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
    const [a, b] = instances as [RunningServer, RunningServer];
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
    const [a, b] = instances as [RunningServer, RunningServer];
    const onA = new JobsClient(a.url);
    const onB = new JobsClient(b.url, { clientId: onA.clientId });
    const key = { 'Idempotency-Key': 'across-instances' };
    const ids: number[] = [];
    // The workers are the next tests' (RUNNER_CONCURRENCY=1): these jobs end with the test.
    onTestFinished(() => Promise.all(ids.map((id) => onA.cancel(id))).then(() => undefined));
    const first = await onA.create({ duration: 3000 }, key);
    ids.push(first.body.id);
    const replayed = await onB.create({ duration: 3000 }, key);
    expect(replayed.status).toBe(200);
    expect(replayed.body.id).toBe(first.body.id);
    ids.push((await onB.createOk({ duration: 3000 })).id);
    ids.push((await onA.createOk({ duration: 3000 })).id);
    const refused = await onB.create({ duration: 3000 });
    expect(refused.status).toBe(429);
    expect(refused.body.code).toBe('TOO_MANY_JOBS');
  });

  it('should show every state of every job once, in order, to a client that creates, polls and streams through different instances', async () => {
    const client = new JobsClient(proxy.url);
    const mark = proxy.requests.length;
    // Every request on a connection of its own: the proxy sends each to the next instance.
    const events = await stream(client.url('/status'));
    await events.nextEvent('snapshot');
    const jobs: Job[] = [];
    for (const duration of [600, 800, 1000]) {
      const created = await requestOnce<Job>(client.url('/create'), {
        method: 'POST',
        body: { duration },
      });
      expect(created.status).toBe(201);
      jobs.push(created.body);
    }
    const polled = new Map<number, Job[]>(jobs.map((job) => [job.id, []]));
    await vi.waitFor(
      async () => {
        for (const { id } of jobs) {
          const copies = polled.get(id)!;
          if (copies.length > 0 && isFinished(copies.at(-1)!)) continue;
          copies.push((await requestOnce<Job>(client.url(`/status/${id}`))).body);
        }
        expect([...polled.values()].every((copies) => isFinished(copies.at(-1)!))).toBe(true);
      },
      { timeout: 15_000, interval: 50 },
    );
    const streamed = await jobsUntilFinished(
      events,
      jobs.map((job) => job.id),
    );

    const served = proxy.requests.slice(mark);
    const streamedBy = served.find((request) => request.stream)!.backend.port;
    const createdBy = served
      .filter((request) => request.line.startsWith('POST /create'))
      .map((request) => request.backend.port);
    const polledBy = new Set(
      served
        .filter((request) => request.line.startsWith('GET /status/'))
        .map((request) => request.backend.port),
    );
    // Created through one instance, polled through another, streamed through a third.
    expect(
      createdBy.some(
        (port) => port !== streamedBy && [...polledBy].some((p) => p !== port && p !== streamedBy),
      ),
    ).toBe(true);
    expect(new Set([streamedBy, ...createdBy, ...polledBy]).size).toBe(3);

    for (const job of jobs) {
      const copies = streamed.filter((copy) => copy.id === job.id);
      expect(copies.map((copy) => copy.revision)).toEqual(copies.map((_, i) => i + 1));
      expect(statusesOf(copies)).toEqual(['pending', 'running', 'completed']);
      const polls = polled.get(job.id)!;
      const revisions = polls.map((copy) => copy.revision);
      expect(revisions).toEqual(revisions.toSorted((x, y) => x - y));
      expect(polls.at(-1)).toEqual(copies.at(-1));
    }
  });

  it('should let an instance without a worker (RUNNER_CONCURRENCY=0) serve HTTP while the others run its jobs', async () => {
    const apiOnly = await startTestServer({
      JOBS_DRIVER: 'redis',
      REDIS_URL: redis.url,
      RUNNER_CONCURRENCY: '0',
    });
    onTestFinished(() => apiOnly.stop());
    const client = new JobsClient(apiOnly.url);

    const { id } = await client.createOk({ duration: 200 });

    const done = await client.waitFor(id, (job) => isFinished(job));
    expect(done.status).toBe('completed');
    const health = await fetch(`${apiOnly.url}/health`);
    expect(health.status).toBe(200);
    expect(
      ((await health.json()) as { info: { redis: { worker: string } } }).info.redis.worker,
    ).toBe('off');
  });

  it('should complete every job once, through a living instance, when the instance holding the library’s stream and running a job is killed', async () => {
    const heygen = new HeyGenAPI({
      url: proxy.url,
      mode: HeyGenStatusListenerMode.SSE,
      fallback: false,
      retryDelay: 100,
    });
    onTestFinished(() => heygen.dispose());
    const mark = proxy.requests.length;
    const ids: number[] = [];
    for (let i = 0; i < 3; i++) ids.push(await heygen.createJob({ duration: 2500 }));
    const statuses = new Map<number, JobStatus[]>(ids.map((id) => [id, []]));
    for (const id of ids) heygen.listen(id, (_, status) => statuses.get(id)!.push(status));
    const finals = Promise.all(ids.map((id) => heygen.waitForJob(id, { timeout: 30_000 })));
    // Awaited below; a failure before then disposes the library, which rejects the waits.
    finals.catch(() => {});

    const opened = await vi.waitFor(() => {
      const request = proxy.requests.slice(mark).find((candidate) => candidate.stream);
      if (!request) throw new Error('the library has not opened its stream yet');
      return request;
    });
    const holder = instances.find((instance) => instance.port === opened.backend.port)!;
    const onProxy = new JobsClient(proxy.url, { clientId: heygen.clientId });
    for (const id of ids) await onProxy.waitFor(id, (job) => job.status === 'running');
    expect(await runningJobs(holder)).toBe(1);

    const killedAt = proxy.requests.length;
    await holder.stop('SIGKILL');

    expect((await finals).map((job) => job.status)).toEqual([
      'completed',
      'completed',
      'completed',
    ]);
    for (const id of ids) expect(statuses.get(id)).toEqual(['pending', 'running', 'completed']);
    const resumed = proxy.requests.slice(killedAt).filter((request) => request.stream);
    expect(resumed.length).toBeGreaterThan(0);
    for (const request of resumed) {
      expect(request.line).toMatch(/[?&]lastEventId=\d+/);
      expect(request.backend.port).not.toBe(holder.port);
    }
  });

  it('should answer, after every instance is restarted, the jobs created before, and complete the unfinished ones', async () => {
    const client = new JobsClient(proxy.url);
    const status = (id: number) => requestOnce<Job>(client.url(`/status/${id}`));
    const create = async (duration: number): Promise<Job> =>
      (await requestOnce<Job>(client.url('/create'), { method: 'POST', body: { duration } })).body;
    const finished = await create(100);
    const unfinished = [await create(3000), await create(3000)];
    await vi.waitFor(async () => expect((await status(finished.id)).body.status).toBe('completed'));
    for (const { id } of unfinished) {
      await vi.waitFor(async () => expect((await status(id)).body.status).toBe('running'));
    }

    await Promise.all(instances.map((instance) => instance.stop()));
    instances = await startInstances();
    proxy.setBackends(instances);

    for (const job of [finished, ...unfinished]) {
      const { status: code, body } = await status(job.id);
      expect(code).toBe(200);
      expect(body.createdAt).toBe(job.createdAt);
    }
    for (const { id } of unfinished) {
      await vi.waitFor(async () => expect((await status(id)).body.status).toBe('completed'), {
        timeout: 15_000,
        interval: 100,
      });
    }
    expect((await status(finished.id)).body.status).toBe('completed');
  }, 60_000);
});
