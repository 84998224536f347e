import { describe, expect, it, vi } from 'vitest';
import {
  isFinished,
  ISO_TIME,
  STATUS_RANK,
  type ApiError,
  type Batch,
  type Job,
} from 'heygen-test-support';
import { requestJson } from './support/http.js';
import { JobsClient } from './support/jobs-client.js';
import { startServer } from './support/server.js';
import { describeEachAdapter } from './support/adapters.js';

const JOB_TIME = 300;
const MARGIN = 10;
const ENV = {
  JOB_TIME: String(JOB_TIME),
  PROGRESS_INTERVAL_MS: '20',
  POLL_HINT_MARGIN_MS: String(MARGIN),
};

async function setUp(env: Record<string, string> = {}): Promise<JobsClient> {
  const server = await startServer({ ...ENV, ...env });
  return new JobsClient(server.url);
}

/** Fails unless every later copy of a job is at least as far along as the one before. */
function expectMonotonic(copies: Job[]): void {
  for (const [i, job] of copies.entries()) {
    const previous = copies[i - 1];
    if (!previous) continue;
    expect(STATUS_RANK[job.status]).toBeGreaterThanOrEqual(STATUS_RANK[previous.status]);
    expect(job.revision).toBeGreaterThanOrEqual(previous.revision);
    expect(job.progress).toBeGreaterThanOrEqual(previous.progress);
  }
}

describeEachAdapter(() => {
  describe('POST /create', () => {
    it('should answer 201 with a pending job, its Location and a poll hint', async () => {
      const client = await setUp();

      const res = await client.create();

      expect(res.status).toBe(201);
      expect(res.headers.get('content-type')).toMatch(/^application\/json; charset=utf-8$/i);
      const job = res.body;
      expect(res.headers.get('location')).toBe(`/status/${job.id}`);
      expect(Number.isSafeInteger(job.id) && job.id > 0).toBe(true);
      expect(job).toMatchObject({
        status: 'pending',
        progress: 0,
        revision: 1,
        duration: JOB_TIME,
      });
      expect(job.createdAt).toMatch(ISO_TIME);
      expect(job.updatedAt).toBe(job.createdAt);
      expect(Date.parse(job.expectedAt)).toBe(Date.parse(job.createdAt) + JOB_TIME);
      expect(job).not.toHaveProperty('startedAt');
      expect(job).not.toHaveProperty('finishedAt');
      expect(job).not.toHaveProperty('error');
      const hint = res.headers.get('x-next-poll-ms');
      expect(hint).toMatch(/^\d+$/);
      expect(Number(hint)).toBeLessThanOrEqual(JOB_TIME + MARGIN);
    });

    it('should assign ids in increasing order', async () => {
      const client = await setUp();

      const first = await client.createOk();
      const second = await client.createOk({});

      expect(second.id).toBeGreaterThan(first.id);
    });

    it('should run a job for the duration asked in the body', async () => {
      const client = await setUp();

      const job = await client.createOk({ duration: 150 });

      expect(job.duration).toBe(150);
      expect(Date.parse(job.expectedAt)).toBe(Date.parse(job.createdAt) + 150);
      const done = await client.waitFor(job.id, isFinished);
      expect(done.status).toBe('completed');
    });

    it('should complete a job of duration 0', async () => {
      const client = await setUp();

      const job = await client.createOk({ duration: 0 });

      expect((await client.waitFor(job.id, isFinished)).status).toBe('completed');
    });

    it('should end a job created with fail: true as failed with SIMULATED_FAILURE', async () => {
      const client = await setUp();

      const job = await client.createOk({ duration: 200, fail: true });
      const failed = await client.waitFor(job.id, isFinished);

      expect(failed.status).toBe('failed');
      expect(failed.error).toEqual({
        code: 'SIMULATED_FAILURE',
        message: expect.any(String) as unknown,
      });
      expect(failed.progress).toBeLessThan(100);
      expect(failed.finishedAt).toMatch(ISO_TIME);
    });
  });

  describe('GET /status/:id', () => {
    it('should show progress moving while running, then the completed job', async () => {
      const client = await setUp();
      const job = await client.createOk({ duration: 400 });
      const copies: Job[] = [job];
      const record = async (done: (j: Job) => boolean): Promise<Job> =>
        client.waitFor(job.id, (copy) => {
          copies.push(copy);
          return done(copy);
        });

      const midway = await record((j) => j.status === 'running' && j.progress > 0);
      const done = await record(isFinished);

      expect(midway.progress).toBeLessThan(100);
      expect(midway.startedAt).toMatch(ISO_TIME);
      expect(midway).not.toHaveProperty('finishedAt');
      expect(done).toMatchObject({ status: 'completed', progress: 100 });
      expect(done.startedAt).toBe(midway.startedAt);
      expect(done.finishedAt).toMatch(ISO_TIME);
      expect(Date.parse(done.startedAt ?? '')).toBeGreaterThanOrEqual(Date.parse(done.createdAt));
      expect(Date.parse(done.finishedAt ?? '')).toBeGreaterThanOrEqual(
        Date.parse(done.startedAt ?? ''),
      );
      expect(done.updatedAt).toBe(done.finishedAt);
      expect(done.revision).toBeGreaterThan(midway.revision);
      expect(done).not.toHaveProperty('error');
      expectMonotonic(copies);
    });

    it('should send the poll hint for an unfinished job and none for a finished one', async () => {
      const client = await setUp();
      const job = await client.createOk({ duration: 5000 });

      const running = await client.status(job.id);
      await client.cancel(job.id);
      const finished = await client.status(job.id);

      expect(running.status).toBe(200);
      expect(running.headers.get('x-next-poll-ms')).toMatch(/^\d+$/);
      expect(Number(running.headers.get('x-next-poll-ms'))).toBeLessThanOrEqual(5000 + MARGIN);
      expect(finished.status).toBe(200);
      expect(finished.headers.get('x-next-poll-ms')).toBeNull();
    });

    it('should forget a finished job after RETENTION_MS', async () => {
      const client = await setUp({ RETENTION_MS: '50' });
      const job = await client.createOk({ duration: 0 });

      const gone = await vi.waitFor(
        async () => {
          const res = await client.status(job.id);
          expect(res.status).toBe(404);
          return res;
        },
        { timeout: 5000, interval: 20 },
      );

      expect(gone.body).toMatchObject({ statusCode: 404, code: 'JOB_NOT_FOUND' });
    });
  });

  describe('GET /status?ids= (batch)', () => {
    it('should return the asked jobs in order, each once, and list the missing ids', async () => {
      const client = await setUp();
      const a = await client.createOk();
      const b = await client.createOk();
      const unknown = b.id + 1000;

      const res = await client.batch([b.id, unknown, a.id, b.id]);

      expect(res.status).toBe(200);
      expect(res.body.jobs.map((job) => job.id)).toEqual([b.id, a.id]);
      expect(res.body.missing).toEqual([unknown]);
      expect(res.body.jobs[0]).toMatchObject({ id: b.id, duration: JOB_TIME });
    });

    it("should return all the client's jobs, and only its own, without ids", async () => {
      const client = await setUp();
      const other = new JobsClient(client.baseUrl);
      const a = await client.createOk();
      await other.createOk();
      const b = await client.createOk();

      const res = await client.batch();

      expect(res.status).toBe(200);
      expect(res.body.jobs.map((job) => job.id)).toEqual([a.id, b.id]);
      expect(res.body.missing).toEqual([]);
    });

    it('should page the list of all jobs with limit and startingAfter, and say when more follow', async () => {
      const client = await setUp();
      const other = new JobsClient(client.baseUrl);
      const ids: number[] = [];
      for (let i = 0; i < 5; i++) {
        ids.push((await client.createOk()).id);
        await other.createOk();
      }

      const pages = [
        await client.page({ limit: '2' }),
        await client.page({ limit: '2', startingAfter: String(ids[1]) }),
        await client.page({ limit: '2', startingAfter: String(ids[3]) }),
        await client.page({ limit: '2', startingAfter: String(ids[4]) }),
        // Without limit: the rest of the list; after an id the client never had, from there on.
        await client.page({ startingAfter: String(ids[2]) }),
        await client.page({ startingAfter: '1' }),
      ];
      expect(pages.map((res) => res.status)).toEqual([200, 200, 200, 200, 200, 200]);
      expect(pages.map((res) => [res.body.jobs.map((job) => job.id), res.body.more])).toEqual([
        [ids.slice(0, 2), true],
        [ids.slice(2, 4), true],
        [ids.slice(4), false],
        [[], false],
        [ids.slice(3), false],
        [ids, false],
      ]);
      expect(pages[0]!.body.missing).toEqual([]);
      // The whole list, asked as before, says nothing of pages.
      expect((await client.batch()).body).not.toHaveProperty('more');
    });

    it('should answer a page at once, a Prefer: wait not applied', async () => {
      const client = await setUp();
      await client.createOk({ duration: 60_000 });

      const started = Date.now();
      const res = await requestJson<Batch>(client.url('/status', { limit: '1' }), {
        headers: { Prefer: 'wait=5' },
      });

      expect(res.status).toBe(200);
      expect(Date.now() - started).toBeLessThan(4000);
      expect(res.headers.get('preference-applied')).toBeNull();
      expect(res.body.jobs).toHaveLength(1);
    });

    it.each([
      ['a non-numeric startingAfter', 'startingAfter=abc'],
      ['startingAfter 0', 'startingAfter=0'],
      ['startingAfter twice', 'startingAfter=1&startingAfter=2'],
      ['limit 0', 'limit=0'],
      ['limit with ids', 'limit=2&ids=1'],
      ['startingAfter with ids', 'startingAfter=1&ids=1'],
      ['startingAfter with revisions', 'startingAfter=1&revisions=1'],
      ['startingAfter with wait', 'startingAfter=1&wait=5'],
      ['startingAfter with after', 'startingAfter=1&after=1'],
    ])('should answer 400 INVALID_QUERY for %s', async (_, query) => {
      const client = await setUp();

      const res = await requestJson<ApiError>(`${client.url('/status')}&${query}`);

      expect(res.status).toBe(400);
      expect(res.body.code).toBe('INVALID_QUERY');
    });

    it('should answer an empty list for a client without jobs', async () => {
      const client = await setUp();

      const res = await client.batch();

      expect(res.status).toBe(200);
      expect(res.body).toEqual({ jobs: [], missing: [] });
    });

    it('should hint the soonest unfinished job and drop the hint once all are finished', async () => {
      const client = await setUp();
      const soon = await client.createOk({ duration: 2000 });
      const late = await client.createOk({ duration: 5000 });

      const both = await client.batch([late.id, soon.id]);
      await client.cancel(late.id);
      await client.cancel(soon.id);
      const finished = await client.batch([late.id, soon.id]);

      expect(both.headers.get('x-next-poll-ms')).toMatch(/^\d+$/);
      expect(Number(both.headers.get('x-next-poll-ms'))).toBeLessThanOrEqual(2000 + MARGIN);
      expect(finished.headers.get('x-next-poll-ms')).toBeNull();
    });
  });

  describe('POST /cancel/:id', () => {
    it('should cancel a running job, freeze it, and never move it again', async () => {
      const client = await setUp();
      const job = await client.createOk({ duration: 600 });
      await client.waitFor(job.id, (j) => j.status === 'running');

      const res = await client.cancel(job.id);

      expect(res.status).toBe(200);
      const cancelled = res.body;
      expect(cancelled).toMatchObject({ id: job.id, status: 'cancelled' });
      expect(cancelled.progress).toBeLessThan(100);
      expect(cancelled.finishedAt).toMatch(ISO_TIME);
      expect(res.headers.get('x-next-poll-ms')).toBeNull();
      // A later job outliving this one's expected finish shows the timers really stopped.
      const later = await client.createOk({ duration: 600 });
      await client.waitFor(later.id, isFinished);
      expect((await client.status(job.id)).body).toEqual(cancelled);
    });

    it('should refuse to cancel a finished job with 409 JOB_FINISHED and change nothing', async () => {
      const client = await setUp();
      const job = await client.createOk({ duration: 0 });
      const done = await client.waitFor(job.id, isFinished);

      const res = await client.cancel(job.id);

      expect(res.status).toBe(409);
      expect(res.body).toMatchObject({ statusCode: 409, error: 'Conflict', code: 'JOB_FINISHED' });
      expect((await client.status(job.id)).body).toEqual(done);
    });

    it('should refuse a second cancel and a cancel of a failed job with 409', async () => {
      const client = await setUp();
      const job = await client.createOk({ duration: 5000 });
      const failing = await client.createOk({ duration: 0, fail: true });
      await client.cancel(job.id);
      const failed = await client.waitFor(failing.id, isFinished);

      const again = await client.cancel(job.id);
      const ofFailed = await client.cancel(failing.id);

      expect(again.status).toBe(409);
      expect(again.body.code).toBe('JOB_FINISHED');
      expect(ofFailed.status).toBe(409);
      expect((await client.status(failing.id)).body).toEqual(failed);
    });
  });

  describe('Idempotency-Key', () => {
    it('should return the same job with 200 and Idempotent-Replayed for the same key and body', async () => {
      const client = await setUp();
      const key = { 'Idempotency-Key': 'order-42' };

      const first = await client.create({ duration: 1000 }, key);
      const second = await client.create({ duration: 1000 }, key);

      expect(first.status).toBe(201);
      expect(first.headers.get('idempotent-replayed')).toBeNull();
      expect(second.status).toBe(200);
      expect(second.headers.get('idempotent-replayed')).toBe('true');
      expect(second.headers.get('location')).toBe(`/status/${first.body.id}`);
      expect(second.body.id).toBe(first.body.id);
      expect((await client.batch()).body.jobs).toHaveLength(1);
    });

    it('should answer 422 IDEMPOTENCY_KEY_REUSED for the same key with another body', async () => {
      const client = await setUp();
      const key = { 'Idempotency-Key': 'order-43' };
      await client.create({ duration: 1000 }, key);

      const res = await client.create({ duration: 2000 }, key);

      expect(res.status).toBe(422);
      expect(res.body).toMatchObject({ statusCode: 422, code: 'IDEMPOTENCY_KEY_REUSED' });
      expect((await client.batch()).body.jobs).toHaveLength(1);
    });

    it('should scope keys per client', async () => {
      const client = await setUp();
      const other = new JobsClient(client.baseUrl);
      const key = { 'Idempotency-Key': 'shared-key' };

      const mine = await client.create(undefined, key);
      const theirs = await other.create(undefined, key);

      expect(mine.status).toBe(201);
      expect(theirs.status).toBe(201);
      expect(theirs.body.id).not.toBe(mine.body.id);
    });

    it('should replay the job even when the client is at its active-job limit', async () => {
      const client = await setUp({ MAX_ACTIVE_JOBS_PER_CLIENT: '1' });
      const key = { 'Idempotency-Key': 'retry-me' };
      const first = await client.create({ duration: 5000 }, key);

      const retry = await client.create({ duration: 5000 }, key);

      expect(retry.status).toBe(200);
      expect(retry.body.id).toBe(first.body.id);
    });
  });
});
