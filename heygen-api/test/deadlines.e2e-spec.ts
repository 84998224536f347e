import { describe, expect, it, vi } from 'vitest';
import { openSse, type Job, type RawSseStream, type SseEvent } from 'heygen-test-support';
import { GRACE_MS } from '../src/deadlines/redis-job-watches.js';
import { JobsService } from '../src/jobs/jobs.service.js';
import { RedisConnections } from '../src/redis/redis-connections.js';
import { describeEachAdapter } from './support/adapters.js';
import { requestJson } from './support/http.js';
import { JobsClient } from './support/jobs-client.js';
import { useTestRedis } from './support/redis-server.js';
import { startServer, type TestServer } from './support/server.js';

// Deadlines (issue 19, docs/protocol.md "Deadlines"): `Cancel-After` on create, and the opt-in
// `cancelWhenUnwatched`, on a real server over real HTTP.

const FINISHED = new Set(['completed', 'failed', 'cancelled']);
const isFinished = (job: Job): boolean => FINISHED.has(job.status);

async function setUp(env: Record<string, string> = {}): Promise<{
  server: TestServer;
  client: JobsClient;
}> {
  const server = await startServer(env);
  return { server, client: new JobsClient(server.url) };
}

/**
 * The job as the server keeps it, read in process: a status request would watch the job, which
 * is what the unwatched tests must not do.
 */
function peek(server: TestServer, client: JobsClient, id: number): Promise<Job> {
  return server.app.get(JobsService).get(client.clientId, id);
}

/** Waits, without watching the job, until it has finished; returns it. */
function finishedUnwatched(
  server: TestServer,
  client: JobsClient,
  id: number,
  timeout = 5000,
): Promise<Job> {
  return vi.waitFor(
    async () => {
      const job = await peek(server, client, id);
      if (!isFinished(job)) throw new Error(`job ${id} is ${job.status}`);
      return job;
    },
    { timeout, interval: 20 },
  );
}

/** The stream's job events up to the one that finishes `id`. */
async function readUntilFinished(stream: RawSseStream, id: number): Promise<Job[]> {
  const jobs: Job[] = [];
  for (;;) {
    const event = (await stream.nextNonHeartbeat()) as SseEvent<Job>;
    if (event.event !== 'job') continue;
    jobs.push(event.data);
    if (event.data.id === id && isFinished(event.data)) return jobs;
  }
}

const cancelAfter = (value: string): Record<string, string> => ({ 'Cancel-After': value });

describeEachAdapter(() => {
  describe('Cancel-After', () => {
    it('should cancel a job still running at its deadline, with error DEADLINE', async () => {
      const { client } = await setUp();

      const created = await client.create({ duration: 10_000 }, cancelAfter('300ms'));
      expect(created.status).toBe(201);
      // The first poll is due at the deadline, not at the job's own end (review of 2026-12-01).
      expect(Number(created.headers.get('x-next-poll-ms'))).toBeLessThanOrEqual(300 + 10);
      const job = await client.waitFor(created.body.id, isFinished);

      expect(job).toMatchObject({ status: 'cancelled', error: { code: 'DEADLINE' } });
      const ranMs = Date.parse(job.finishedAt!) - Date.parse(job.createdAt);
      expect(ranMs).toBeGreaterThanOrEqual(300);
      expect(ranMs).toBeLessThan(5000);
    });

    it('should point the hint of every later poll, one job or a batch, at the deadline (review of 2026-12-01)', async () => {
      const { client } = await setUp();
      const { body: job } = await client.create({ duration: 20_000 }, cancelAfter('2s'));

      const one = await client.status(job.id);
      const batch = await client.batch([job.id]);
      const all = await client.batch();

      for (const answer of [one, batch]) {
        expect(Number(answer.headers.get('x-next-poll-ms'))).toBeLessThanOrEqual(2000 + 10);
      }
      // The deadline stays the server's: no field of the answers.
      expect(Object.keys(batch.body).sort()).toEqual(['jobs', 'missing']);
      expect(Object.keys(all.body).sort()).toEqual(['jobs', 'missing']);
      expect(one.body).not.toHaveProperty('cancelAt');
    });

    it('should leave a job that finishes before its deadline completed', async () => {
      const { client } = await setUp();

      const created = await client.create({ duration: 100 }, cancelAfter('5s'));
      const job = await client.waitFor(created.body.id, isFinished);

      expect(job.status).toBe('completed');
      expect(job.error).toBeUndefined();
    });

    it('should send the cancel to the open stream as the job event that ends it', async () => {
      const { client } = await setUp();
      const stream = await openSse(client.url('/status'));
      await stream.nextEvent('snapshot');

      const created = await client.create({ duration: 10_000 }, cancelAfter('0.3'));
      const jobs = await readUntilFinished(stream, created.body.id);

      expect(jobs.at(-1)).toMatchObject({
        id: created.body.id,
        status: 'cancelled',
        error: { code: 'DEADLINE' },
      });
      expect(await client.status(created.body.id).then((res) => res.body)).toEqual(jobs.at(-1));
    });

    it.each(['90s', '5m', '1h30m', '1500ms', '90', '2.5s', '24h'])(
      'should accept %j',
      async (value) => {
        const { client } = await setUp();
        const res = await client.create({ duration: 100 }, cancelAfter(value));
        expect(res.status).toBe(201);
      },
    );

    it.each([
      'soon',
      '-5s',
      '0',
      '0s',
      '0ms',
      '24h1ms',
      '25h',
      '5 m',
      '1m1h',
      '5S',
      '1.s',
      '5s, 6s',
    ])('should refuse %j with 400 INVALID_CANCEL_AFTER', async (value) => {
      const { client } = await setUp();
      const res = await client.create({ duration: 100 }, cancelAfter(value));
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ statusCode: 400, code: 'INVALID_CANCEL_AFTER' });
      expect(res.body.message).toMatch(/Cancel-After/);
    });

    it('should count Cancel-After in the Idempotency-Key fingerprint', async () => {
      const { client } = await setUp();
      const key = { 'Idempotency-Key': 'with-a-deadline' };

      const first = await client.create({ duration: 100 }, { ...key, ...cancelAfter('5s') });
      const same = await client.create({ duration: 100 }, { ...key, ...cancelAfter('5000ms') });
      const other = await client.create({ duration: 100 }, { ...key, ...cancelAfter('6s') });

      expect(first.status).toBe(201);
      expect(same.status).toBe(200);
      expect(same.body.id).toBe(first.body.id);
      expect(other.status).toBe(422);
      expect(other.body.code).toBe('IDEMPOTENCY_KEY_REUSED');
    });

    it('should let a browser send it (CORS preflight)', async () => {
      const { server } = await setUp();
      const res = await fetch(`${server.url}/create`, {
        method: 'OPTIONS',
        headers: {
          Origin: 'https://app.example.com',
          'Access-Control-Request-Method': 'POST',
          'Access-Control-Request-Headers': 'cancel-after',
        },
      });
      expect(res.headers.get('access-control-allow-headers')?.toLowerCase()).toContain(
        'cancel-after',
      );
    });
  });

  describe('cancelWhenUnwatched', () => {
    it('should cancel a job nobody watches, with error UNWATCHED', async () => {
      const { server, client } = await setUp();

      const created = await client.createOk({ duration: 10_000, cancelWhenUnwatched: 0.3 });
      const job = await finishedUnwatched(server, client, created.id);

      expect(job).toMatchObject({ status: 'cancelled', error: { code: 'UNWATCHED' } });
      const ranMs = Date.parse(job.finishedAt!) - Date.parse(job.createdAt);
      expect(ranMs).toBeGreaterThanOrEqual(300);
    });

    it('should spare a job that is polled', async () => {
      const { client } = await setUp();

      const created = await client.createOk({ duration: 1200, cancelWhenUnwatched: 0.3 });
      // client.waitFor polls GET /status/:id every 20 ms.
      const job = await client.waitFor(created.id, isFinished);

      expect(job.status).toBe('completed');
    });

    it('should spare a job that is polled through the batch', async () => {
      const { client } = await setUp();

      const created = await client.createOk({ duration: 1200, cancelWhenUnwatched: 0.3 });
      const job = await vi.waitFor(
        async () => {
          const { body } = await client.batch([created.id]);
          const found = body.jobs[0]!;
          if (!isFinished(found)) throw new Error(`job is ${found.status}`);
          return found;
        },
        { timeout: 5000, interval: 50 },
      );

      expect(job.status).toBe('completed');
    });

    it('should spare a job while a stream of its client is open', async () => {
      const { client } = await setUp();
      const stream = await openSse(client.url('/status'));
      await stream.nextEvent('snapshot');

      const created = await client.createOk({ duration: 1200, cancelWhenUnwatched: 0.3 });
      const jobs = await readUntilFinished(stream, created.id);

      expect(jobs.at(-1)).toMatchObject({ id: created.id, status: 'completed' });
    });

    it('should spare a job a held wait lists, and cancel it once nothing watches', async () => {
      const { server, client } = await setUp();
      const created = await client.createOk({ duration: 1200, cancelWhenUnwatched: 0.3 });

      // Held until the job finishes: longer than its unwatched time.
      const held = await requestJson<Job>(client.url(`/status/${created.id}`), {
        headers: { Prefer: 'wait=10' },
      });
      expect(held.body.status).toBe('completed');

      const abandoned = await client.createOk({ duration: 10_000, cancelWhenUnwatched: 0.3 });
      const stream = await openSse(client.url('/status'));
      await stream.nextEvent('snapshot');
      stream.destroy();
      const job = await finishedUnwatched(server, client, abandoned.id);
      expect(job).toMatchObject({ status: 'cancelled', error: { code: 'UNWATCHED' } });
    });

    it.each([0, -1, 86_401, '60', null, true])(
      'should refuse cancelWhenUnwatched %j with 400 INVALID_BODY',
      async (value) => {
        const { client } = await setUp();
        const res = await client.create({ duration: 100, cancelWhenUnwatched: value });
        expect(res.status).toBe(400);
        expect(res.body).toMatchObject({ statusCode: 400, code: 'INVALID_BODY' });
        expect(res.body.message).toMatch(/cancelWhenUnwatched/);
      },
    );
  });
});

describe('deadlines: redis driver', () => {
  const redis = useTestRedis();
  const redisEnv = (): Record<string, string> => ({ JOBS_DRIVER: 'redis', REDIS_URL: redis.url });

  it('should cancel a job at its Cancel-After deadline on the BullMQ worker', async () => {
    const { client } = await setUp(redisEnv());

    const created = await client.create({ duration: 10_000 }, cancelAfter('300ms'));
    expect(created.status).toBe(201);
    const job = await client.waitFor(created.body.id, isFinished);

    expect(job).toMatchObject({ status: 'cancelled', error: { code: 'DEADLINE' } });
  });

  it('should point the hint of a later poll at the deadline (review of 2026-12-01)', async () => {
    const { client } = await setUp(redisEnv());
    const { body: job } = await client.create({ duration: 20_000 }, cancelAfter('2s'));

    const { headers } = await client.status(job.id);

    expect(Number(headers.get('x-next-poll-ms'))).toBeLessThanOrEqual(2000 + 10);
  });

  it('should cancel a job that waited in the queue past its deadline when it is taken', async () => {
    // RUNNER_CONCURRENCY=0: no worker here, so the job stays queued until one comes.
    const { client } = await setUp({ ...redisEnv(), RUNNER_CONCURRENCY: '0' });
    const created = await client.create({ duration: 10_000 }, cancelAfter('100ms'));
    expect(created.status).toBe(201);
    const deadline = Date.parse(created.body.createdAt) + 100;
    await vi.waitFor(() => expect(Date.now()).toBeGreaterThan(deadline), { interval: 20 });
    expect((await client.status(created.body.id)).body.status).toBe('pending');

    await startServer(redisEnv());
    const job = await client.waitFor(created.body.id, isFinished);
    expect(job).toMatchObject({ status: 'cancelled', error: { code: 'DEADLINE' } });
    expect(job.startedAt).toBeUndefined();
  });

  it('should cancel a job nobody watches, with error UNWATCHED, within the grace', async () => {
    const { server, client } = await setUp(redisEnv());

    const created = await client.createOk({ duration: 10_000, cancelWhenUnwatched: 0.3 });
    const job = await finishedUnwatched(server, client, created.id, GRACE_MS + 5000);

    expect(job).toMatchObject({ status: 'cancelled', error: { code: 'UNWATCHED' } });
    // Its time, then the grace (GRACE_MS, 5 s) that lets every instance's watches be refreshed,
    // a stalled one's too.
    const ranMs = Date.parse(job.finishedAt!) - Date.parse(job.createdAt);
    expect(ranMs).toBeGreaterThanOrEqual(300 + GRACE_MS);
    expect(ranMs).toBeLessThan(300 + GRACE_MS + 4000);
  });

  it('should spare a job while a stream of its client is open on another instance', async () => {
    const a = await startServer(redisEnv());
    const b = await startServer(redisEnv());
    const onA = new JobsClient(a.url);
    const onB = new JobsClient(b.url, { clientId: onA.clientId });
    const stream = await openSse(onA.url('/status'));
    await stream.nextEvent('snapshot');

    // Unwatched on B, where it is created and maybe run, for all of its 2.5 s.
    const created = await onB.createOk({ duration: 2500, cancelWhenUnwatched: 0.3 });
    const jobs = await readUntilFinished(stream, created.id);

    expect(jobs.at(-1)).toMatchObject({ id: created.id, status: 'completed' });
    // Finished by the BullMQ runner: nothing of it is left to sweep.
    const redisOf = a.app.get(RedisConnections);
    await vi.waitFor(async () =>
      expect(await redisOf.command.zcard(`${redisOf.prefix}unwatched`)).toBe(0),
    );
  });
});
