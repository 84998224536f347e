import { describe, expect, it, vi } from 'vitest';
import {
  isFinished,
  openSse,
  type ApiError,
  type CatchUp,
  type Job,
  type RawSseStream,
} from 'heygen-test-support';
import { describeEachAdapter } from './support/adapters.js';
import { requestJson, type JsonResponse } from './support/http.js';
import { JobsClient } from './support/jobs-client.js';
import { useTestRedis } from './support/redis-server.js';
import { startServer } from './support/server.js';

// One cursor for every channel (issue 19): every job carries the eventId of the event that left it
// so, and GET /status?after= answers the events since one (docs/protocol.md, "HTTP catch-up").

const ENV = {
  JOB_TIME: '60',
  PROGRESS_INTERVAL_MS: '20',
  HEARTBEAT_MS: '60000',
};
/** Jobs that start and then stay as they are until cancelled: no progress events. */
const STILL = { JOB_TIME: '60000', PROGRESS_INTERVAL_MS: '60000', HEARTBEAT_MS: '60000' };

const redis = useTestRedis();

interface Event {
  id: string;
  job: Job;
}

function catchUp(
  client: JobsClient,
  query: Record<string, string>,
): Promise<JsonResponse<CatchUp & ApiError>> {
  return requestJson(client.url('/status', query));
}

/** Every page from `after` on, followed through `more`. */
async function catchUpAll(client: JobsClient, after: string, limit: number): Promise<Event[]> {
  const events: Event[] = [];
  for (let cursor = after, pages = 0; pages < 100; pages++) {
    const { status, body } = await catchUp(client, { after: cursor, limit: String(limit) });
    expect(status).toBe(200);
    expect(body.events.length).toBeLessThanOrEqual(limit);
    events.push(...body.events);
    if (!body.more) return events;
    cursor = body.events.at(-1)!.id;
  }
  throw new Error('catch-up never ended');
}

/** Reads `job` events until `count` jobs have finished. */
async function jobEventsUntilFinished(stream: RawSseStream, count: number): Promise<Event[]> {
  const events: Event[] = [];
  let finished = 0;
  while (finished < count) {
    const event = await stream.nextEvent<Job>('job');
    events.push({ id: event.id!, job: event.data });
    if (isFinished(event.data)) finished += 1;
  }
  return events;
}

/** A client with a stream open (past its snapshot), and the events of `jobs` finished jobs. */
async function clientWithHistory(
  url: string,
  jobs: number,
): Promise<{ client: JobsClient; stream: RawSseStream; events: Event[] }> {
  const client = new JobsClient(url);
  const stream = await openSse(client.url('/status'));
  await stream.nextEvent('snapshot');
  for (let i = 0; i < jobs; i++) await client.createOk();
  return { client, stream, events: await jobEventsUntilFinished(stream, jobs) };
}

/** The same eventId on every channel, for a job that stays running, then for its cancel. */
async function expectOneCursor(url: string): Promise<void> {
  const client = new JobsClient(url);
  const stream = await openSse(client.url('/status'));
  await stream.nextEvent('snapshot');

  const created = await client.createOk();
  const createdEvent = await stream.nextEvent<Job>('job');
  expect(created.eventId).toBe(createdEvent.id);
  expect(createdEvent.data.eventId).toBe(createdEvent.id);

  const running = await stream.nextEvent<Job>('job');
  expect(running.data.status).toBe('running');
  expect(running.data.eventId).toBe(running.id);
  expect((await client.status(created.id)).body).toEqual(running.data);
  expect((await client.batch([created.id])).body.jobs).toEqual([running.data]);

  const cancelled = await client.cancel(created.id);
  const cancelledEvent = await stream.nextEvent<Job>('job');
  expect(cancelled.body.eventId).toBe(cancelledEvent.id);
  expect(cancelledEvent.data).toEqual(cancelled.body);
  expect((await client.status(created.id)).body.eventId).toBe(cancelledEvent.id);
  expect((await client.batch()).body.jobs).toEqual([cancelled.body]);

  // A catch-up from the creation answers the two later events, as the stream sent them.
  const { body } = await catchUp(client, { after: created.eventId! });
  expect(body).toEqual({
    events: [
      { id: running.id, job: running.data },
      { id: cancelledEvent.id, job: cancelledEvent.data },
    ],
    more: false,
  });
}

describeEachAdapter(() => {
  describe('eventId', () => {
    it('should be the same on create, GET /status/:id, the batch, the stream and catch-up', async () => {
      const server = await startServer(STILL);
      await expectOneCursor(server.url);
    });

    it("should be on every job of a snapshot, each its latest event's", async () => {
      const server = await startServer(ENV);
      const { client, events } = await clientWithHistory(server.url, 2);

      const stream = await openSse(client.url('/status'));
      const { data } = await stream.nextEvent<{ jobs: Job[] }>('snapshot');
      const latest = new Map(events.map(({ id, job }) => [job.id, id]));
      expect(data.jobs.map((job) => [job.id, job.eventId])).toEqual([...latest]);
    });
  });

  describe('GET /status?after=', () => {
    it('should answer exactly the events after the cursor, oldest first', async () => {
      const server = await startServer(ENV);
      const { client, events } = await clientWithHistory(server.url, 2);

      for (const from of [0, 1, Math.floor(events.length / 2)]) {
        const res = await catchUp(client, { after: events[from]!.id });
        expect(res.status).toBe(200);
        expect(res.body).toEqual({ events: events.slice(from + 1), more: false });
      }
      const upToDate = await catchUp(client, { after: events.at(-1)!.id });
      expect(upToDate.body).toEqual({ events: [], more: false });
    });

    it('should page through the events, limit at a time, more telling when to ask again', async () => {
      const server = await startServer(ENV);
      const { client, events } = await clientWithHistory(server.url, 2);

      const first = await catchUp(client, { after: events[0]!.id, limit: '2' });
      expect(first.body).toEqual({ events: events.slice(1, 3), more: true });
      expect(await catchUpAll(client, events[0]!.id, 2)).toEqual(events.slice(1));
      expect(await catchUpAll(client, events[0]!.id, 1)).toEqual(events.slice(1));
    });

    it('should answer 410 RESYNC_REQUIRED for a cursor older than the replay window', async () => {
      const server = await startServer({ ...ENV, REPLAY_LOG_SIZE: '3' });
      const { client, events } = await clientWithHistory(server.url, 2);
      expect(events.length).toBeGreaterThan(4);

      const res = await catchUp(client, { after: events[0]!.id });
      expect(res.status).toBe(410);
      expect(res.body).toMatchObject({ statusCode: 410, code: 'RESYNC_REQUIRED' });
      // The newest ones are still there.
      const recent = await catchUp(client, { after: events.at(-2)!.id });
      expect(recent.body).toEqual({ events: events.slice(-1), more: false });
    });

    it('should answer 410 for an id this client was never given', async () => {
      const server = await startServer(ENV);
      const { client } = await clientWithHistory(server.url, 1);

      for (const after of ['1', '9999999999999999']) {
        const res = await catchUp(client, { after });
        expect(res.status).toBe(410);
        expect(res.body.code).toBe('RESYNC_REQUIRED');
      }
    });

    it("should never answer another client's events for its cursor", async () => {
      const server = await startServer(ENV);
      const alice = await clientWithHistory(server.url, 2);
      const stranger = new JobsClient(server.url);
      const bob = await clientWithHistory(server.url, 1);

      const aliceIds = new Set(alice.events.map(({ id }) => id));
      const bobIds = new Set(bob.events.map(({ id }) => id));
      // A client with no events at all knows no cursor.
      const strangers = await catchUp(stranger, { after: alice.events[0]!.id });
      expect(strangers.status).toBe(410);
      expect(strangers.body.code).toBe('RESYNC_REQUIRED');
      // One with events of its own: refused, or only ever its own (ids are per client).
      for (const { id } of alice.events) {
        const res = await catchUp(bob.client, { after: id });
        if (res.status === 200) {
          for (const event of res.body.events) expect(bobIds.has(event.id)).toBe(true);
          expect(
            res.body.events.some((event) => aliceIds.has(event.id) && !bobIds.has(event.id)),
          ).toBe(false);
        } else {
          expect(res.status).toBe(410);
        }
      }
    });

    it('should watch the jobs it polls, so cancelWhenUnwatched spares them', async () => {
      const server = await startServer(ENV);
      const client = new JobsClient(server.url);

      const created = await client.createOk({ duration: 1200, cancelWhenUnwatched: 0.3 });
      const last = await vi.waitFor(
        async () => {
          const { body } = await catchUp(client, { after: created.eventId! });
          const job = body.events.at(-1)?.job;
          if (!job || !isFinished(job)) throw new Error(`job is ${job?.status ?? 'unchanged'}`);
          return job;
        },
        { timeout: 5000, interval: 50 },
      );
      expect(last.status).toBe('completed');
    });

    it.each([
      ['a non-numeric after', 'after=abc'],
      ['an empty after', 'after='],
      ['a decimal after', 'after=1.5'],
      ['a 17-digit after', 'after=12345678901234567'],
      ['after twice', 'after=1&after=2'],
      ['limit 0', 'after=1&limit=0'],
      ['a limit over 1000', 'after=1&limit=1001'],
      ['after with ids', 'after=1&ids=1'],
    ])('should answer 400 INVALID_QUERY for %s', async (_, query) => {
      const server = await startServer(ENV);
      const client = new JobsClient(server.url);

      const res = await requestJson<ApiError>(`${client.url('/status')}&${query}`);
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('INVALID_QUERY');
    });
  });

  describe('X-Replay-Window', () => {
    it('should advertise REPLAY_LOG_SIZE on every status answer and stream, exposed to scripts', async () => {
      const server = await startServer({ ...ENV, REPLAY_LOG_SIZE: '42' });
      const { client, events } = await clientWithHistory(server.url, 1);
      const job = events[0]!.job;

      const answers = [
        await client.status(job.id),
        await client.status(job.id + 1000),
        await client.batch(),
        await client.batch([job.id]),
        await catchUp(client, { after: events[0]!.id }),
        await catchUp(client, { after: '1' }),
      ];
      expect(answers.map((res) => res.status)).toEqual([200, 404, 200, 200, 200, 410]);
      for (const [i, res] of answers.entries()) {
        expect(res.headers.get('x-replay-window'), `answer ${i}`).toBe('42');
      }
      const stream = await openSse(client.url('/status'));
      expect(stream.headers['x-replay-window']).toBe('42');
      const head = await fetch(client.url('/status'), {
        method: 'HEAD',
        headers: { Accept: 'text/event-stream' },
      });
      expect(head.headers.get('x-replay-window')).toBe('42');

      const crossOrigin = await fetch(client.url('/status'), {
        headers: { Origin: 'https://app.example.com' },
      });
      expect(crossOrigin.headers.get('access-control-expose-headers')?.toLowerCase()).toContain(
        'x-replay-window',
      );
    });
  });

  describe('with the redis driver', () => {
    it('should give the same eventId everywhere, catch up, and refuse a cursor too old', async () => {
      const env = { JOBS_DRIVER: 'redis', REDIS_URL: redis.url };
      const still = await startServer({ ...STILL, ...env });
      await expectOneCursor(still.url);
      // Its runner would work the next server's jobs too, with its own (default) replay log.
      await still.close();

      const server = await startServer({ ...ENV, ...env, REPLAY_LOG_SIZE: '3' });
      const { client, events } = await clientWithHistory(server.url, 2);
      expect(events.length).toBeGreaterThan(3);
      expect(events.every(({ id, job }) => job.eventId === id)).toBe(true);
      const recent = await catchUp(client, { after: events.at(-3)!.id });
      expect(recent.body).toEqual({ events: events.slice(-2), more: false });
      const old = await catchUp(client, { after: events[0]!.id });
      expect(old.status).toBe(410);
      expect(old.body.code).toBe('RESYNC_REQUIRED');
    });
  });
});
