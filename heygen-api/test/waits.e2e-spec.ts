import { type ApiError, type Batch, type Job } from 'heygen-test-support';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { clientKey } from '../src/domain/client.js';
import { JOB_EVENTS, type JobEvents } from '../src/events/job-events.js';
import { JobWaits } from '../src/waits/job-waits.js';
import { describeEachAdapter } from './support/adapters.js';
import { requestJson, type JsonResponse } from './support/http.js';
import { JobsClient } from './support/jobs-client.js';
import { parseResponses, RawConnection, rawRequest } from './support/raw-socket.js';
import { useTestRedis } from './support/redis-server.js';
import { startServer, type TestServer } from './support/server.js';

// Server-held waits (issue 11; docs/protocol.md, "Held waits"): GET /status/:id and the batch
// with `Prefer: wait=<s>`, on a real server over real HTTP.

/** Jobs that never end on their own within a test, and no progress events unless asked. */
const ENV = { JOB_TIME: '600000', PROGRESS_INTERVAL_MS: '600000', HEARTBEAT_MS: '60000' };

const waitsOf = (server: TestServer): JobWaits => server.app.get(JobWaits);

/** What the server holds for waits now: every count is 0 when nothing waits. */
function holding(server: TestServer): Record<string, number> {
  return {
    ...waitsOf(server).counts,
    subscriptions: server.app.get<JobEvents>(JOB_EVENTS).subscriptionCount(),
  };
}

const NOTHING = { held: 0, timers: 0, taken: 0, clients: 0, subscriptions: 0 };

async function untilHeld(server: TestServer, held: number): Promise<void> {
  await vi.waitFor(() => expect(waitsOf(server).counts.held).toBe(held), { timeout: 5000 });
}

async function expectNothingHeld(server: TestServer): Promise<void> {
  await vi.waitFor(() => expect(holding(server)).toEqual(NOTHING), { timeout: 5000 });
}

/** GET `path` of the client with `query` and `Prefer` (none when undefined). */
function get<T>(
  client: JobsClient,
  path: string,
  prefer: string | undefined,
  query: Record<string, string> = {},
): Promise<JsonResponse<T & ApiError>> {
  return requestJson(client.url(path, query), {
    headers: prefer === undefined ? {} : { Prefer: prefer },
  });
}

const applied = (res: JsonResponse): string | null => res.headers.get('preference-applied');
const varies = (res: JsonResponse): string[] =>
  (res.headers.get('vary') ?? '').split(',').map((name) => name.trim().toLowerCase());

describeEachAdapter(() => {
  describe('Prefer: wait on GET /status/:id', () => {
    it('should hold the request until the job completes, and answer it then', async () => {
      const server = await startServer(ENV);
      const client = new JobsClient(server.url);
      const job = await client.createOk({ duration: 1500 });
      // Subscribed before the request, so it hears the completion before the wait does.
      const seen: string[] = [];
      let heldWhenCompleted: number | undefined;
      const unsubscribe = server.app
        .get<JobEvents>(JOB_EVENTS)
        .subscribe(clientKey(client.clientId), ({ job: copy }) => {
          if (copy.id !== job.id || copy.status !== 'completed') return;
          heldWhenCompleted = waitsOf(server).counts.held;
          seen.push('completed');
        });
      onTestFinished(unsubscribe);

      const res = await get<Job>(client, `/status/${job.id}`, 'wait=25');
      seen.push('answered');

      expect(heldWhenCompleted).toBe(1);
      expect(seen).toEqual(['completed', 'answered']);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id: job.id, status: 'completed', progress: 100 });
      expect(applied(res)).toBe('wait=25');
      expect(varies(res)).toContain('prefer');
      expect(res.headers.get('x-next-poll-ms')).toBeNull();
      unsubscribe();
      await expectNothingHeld(server);
    });

    // The query form (`?wait=`, below) must hold alike.
    it.each([
      ['Prefer: wait', 'wait=25', {}],
      ['?wait=', undefined, { wait: '25' }],
    ])('should wake as soon as the job reaches any final state (%s)', async (_, prefer, query) => {
      const server = await startServer(ENV);
      const client = new JobsClient(server.url);
      const job = await client.createOk();

      const pending = get<Job>(client, `/status/${job.id}`, prefer, query);
      await untilHeld(server, 1);
      await client.cancel(job.id);
      const res = await pending;

      expect(res.body).toMatchObject({ id: job.id, status: 'cancelled' });
      expect(applied(res)).toBe('wait=25');
      await expectNothingHeld(server);
    });

    it('should answer at once, with the wait applied, a job already finished', async () => {
      const server = await startServer(ENV);
      const client = new JobsClient(server.url);
      const job = await client.createOk({ duration: 0 });
      await client.waitFor(job.id, (copy) => copy.status === 'completed');

      const res = await get<Job>(client, `/status/${job.id}`, 'wait=25');

      expect(res.body.status).toBe('completed');
      expect(applied(res)).toBe('wait=25');
    });

    it('should wake on progress past the revision the client names', async () => {
      const server = await startServer({ ...ENV, PROGRESS_INTERVAL_MS: '500' });
      const client = new JobsClient(server.url);
      const job = await client.createOk({ duration: 60_000 });
      const current = await client.waitFor(job.id, (copy) => copy.status === 'running');
      let heldWhenMoved: number | undefined;
      const unsubscribe = server.app
        .get<JobEvents>(JOB_EVENTS)
        .subscribe(clientKey(client.clientId), ({ job: copy }) => {
          if (copy.revision === current.revision + 1) heldWhenMoved = waitsOf(server).counts.held;
        });
      onTestFinished(unsubscribe);

      const res = await get<Job>(client, `/status/${job.id}`, 'wait=25', {
        revision: String(current.revision),
      });

      expect(heldWhenMoved).toBe(1);
      expect(res.body).toMatchObject({ status: 'running', revision: current.revision + 1 });
      expect(res.body.progress).toBeGreaterThan(0);
      expect(applied(res)).toBe('wait=25');
      expect(Number(res.headers.get('x-next-poll-ms'))).toBeGreaterThan(0);
      await client.cancel(job.id);
    });

    it('should answer at once when the job is past the revision named, or has none of it yet', async () => {
      const server = await startServer(ENV);
      const client = new JobsClient(server.url);
      const job = await client.createOk();
      const current = await client.waitFor(job.id, (copy) => copy.status === 'running');

      const behind = await get<Job>(client, `/status/${job.id}`, 'wait=25', { revision: '1' });
      const none = await get<Job>(client, `/status/${job.id}`, 'wait=25', { revision: '0' });

      for (const res of [behind, none]) {
        expect(res.body.revision).toBe(current.revision);
        expect(applied(res)).toBe('wait=25');
      }
    });

    it('should answer the job as it is when the wait ends, with the wait it applied', async () => {
      const server = await startServer({ ...ENV, MAX_WAIT_S: '1' });
      const client = new JobsClient(server.url);
      const job = await client.createOk();

      // Asked for more than MAX_WAIT_S, for more than a number holds, and for the longest.
      const answers = await Promise.all(
        ['wait=30', 'wait=99999999999999999999999', 'wait'].map((prefer) =>
          get<Job>(client, `/status/${job.id}`, prefer),
        ),
      );

      for (const res of answers) {
        expect(res.status).toBe(200);
        expect(res.body).toMatchObject({ id: job.id, status: 'running' });
        expect(applied(res)).toBe('wait=1');
        expect(res.headers.get('x-next-poll-ms')).toMatch(/^\d+$/);
      }
      await expectNothingHeld(server);
    });

    it.each([
      ['negative', 'wait=-1'],
      ['fractional', 'wait=1.5'],
      ['not a number', 'wait=soon'],
      ['zero', 'wait=0'],
      ['another preference only', 'respond-async'],
    ])(
      'should ignore a %s wait, answering at once without Preference-Applied',
      async (_, prefer) => {
        const server = await startServer(ENV);
        const client = new JobsClient(server.url);
        const job = await client.createOk();

        const res = await get<Job>(client, `/status/${job.id}`, prefer);

        expect(res.status).toBe(200);
        expect(res.body.status).not.toBe('completed');
        expect(applied(res)).toBeNull();
        expect(varies(res)).toContain('prefer');
        expect(holding(server)).toEqual(NOTHING);
      },
    );

    it('should hold nothing when MAX_WAIT_S is 0', async () => {
      const server = await startServer({ ...ENV, MAX_WAIT_S: '0' });
      const client = new JobsClient(server.url);
      const job = await client.createOk();

      const res = await get<Job>(client, `/status/${job.id}`, 'wait=25');

      expect(res.body.status).toBe('running');
      expect(applied(res)).toBeNull();
    });

    it.each([
      ['not a number', { revision: 'abc' }],
      ['negative', { revision: '-1' }],
      ['too long', { revision: '1234567890123456' }],
    ])('should answer 400 INVALID_QUERY to a revision %s', async (_, query) => {
      const server = await startServer(ENV);
      const client = new JobsClient(server.url);
      const job = await client.createOk();

      const res = await get<Job>(client, `/status/${job.id}`, 'wait=25', query);

      expect(res.status).toBe(400);
      expect(res.body.code).toBe('INVALID_QUERY');
    });

    it('should answer 404 at once for a job the client does not have', async () => {
      const server = await startServer(ENV);
      const client = new JobsClient(server.url);

      const res = await get<Job>(client, '/status/12345', 'wait=25');

      expect(res.status).toBe(404);
      expect(res.body.code).toBe('JOB_NOT_FOUND');
      expect(holding(server)).toEqual(NOTHING);
    });
  });

  describe('Prefer: wait on the batch GET /status?ids=', () => {
    it('should wake when any listed job finishes, not for another job', async () => {
      const server = await startServer(ENV);
      const client = new JobsClient(server.url);
      const [a, b, other] = [
        await client.createOk(),
        await client.createOk(),
        await client.createOk(),
      ];

      const pending = get<Batch>(client, '/status', 'wait=25', { ids: `${a.id},${b.id},999` });
      await untilHeld(server, 1);
      await client.cancel(other.id);
      expect(waitsOf(server).counts.held).toBe(1);
      await client.cancel(b.id);
      const res = await pending;

      expect(res.status).toBe(200);
      expect(res.body.jobs.map((job) => [job.id, job.status])).toEqual([
        [a.id, 'running'],
        [b.id, 'cancelled'],
      ]);
      expect(res.body.missing).toEqual([999]);
      expect(applied(res)).toBe('wait=25');
      expect(varies(res)).toContain('prefer');
      expect(res.headers.get('x-next-poll-ms')).toMatch(/^\d+$/);
      await expectNothingHeld(server);
    });

    it('should wake when any listed job moves past the revision the client names', async () => {
      const server = await startServer(ENV);
      const client = new JobsClient(server.url);
      const a = await client.createOk();
      const b = await client.createOk();
      const [ra, rb] = await Promise.all(
        [a, b].map((job) => client.waitFor(job.id, (copy) => copy.status === 'running')),
      );

      const pending = get<Batch>(client, '/status', 'wait=25', {
        ids: `${a.id},${b.id}`,
        revisions: `${ra!.revision},${rb!.revision}`,
      });
      await untilHeld(server, 1);
      await client.cancel(a.id);
      const res = await pending;

      expect(res.body.jobs.map((job) => job.status)).toEqual(['cancelled', 'running']);
      expect(applied(res)).toBe('wait=25');
    });

    it('should wait on every job of the client without ids', async () => {
      const server = await startServer(ENV);
      const client = new JobsClient(server.url);
      const a = await client.createOk();

      const pending = get<Batch>(client, '/status', 'wait=25');
      await untilHeld(server, 1);
      await client.cancel(a.id);
      const res = await pending;

      expect(res.body.jobs).toEqual([expect.objectContaining({ id: a.id, status: 'cancelled' })]);
      expect(applied(res)).toBe('wait=25');
    });

    it.each([
      ['revisions without ids', { revisions: '1' }],
      ['fewer revisions than ids', { ids: '1,2', revisions: '1' }],
      ['more revisions than ids', { ids: '1', revisions: '1,2' }],
      ['a revision that is not a number', { ids: '1,2', revisions: '1,x' }],
      ['an empty revision', { ids: '1,2', revisions: '1,' }],
    ])('should answer 400 INVALID_QUERY to %s', async (_, query) => {
      const server = await startServer(ENV);
      const client = new JobsClient(server.url);

      const res = await get<Batch>(client, '/status', 'wait=25', query);

      expect(res.status).toBe(400);
      expect(res.body.code).toBe('INVALID_QUERY');
    });
  });

  describe('?wait=, the query form of Prefer: wait', () => {
    it('should hold the batch until a listed job finishes, clamped to MAX_WAIT_S', async () => {
      const server = await startServer({ ...ENV, MAX_WAIT_S: '20' });
      const client = new JobsClient(server.url);
      const [a, b] = [await client.createOk(), await client.createOk()];

      const pending = get<Batch>(client, '/status', undefined, {
        ids: `${a.id},${b.id}`,
        wait: '3600',
      });
      await untilHeld(server, 1);
      await client.cancel(b.id);
      const res = await pending;

      expect(res.body.jobs).toEqual([
        expect.objectContaining({ id: a.id, status: 'running' }),
        expect.objectContaining({ id: b.id, status: 'cancelled' }),
      ]);
      expect(applied(res)).toBe('wait=20');
      await expectNothingHeld(server);
    });

    it.each([
      ['0 over Prefer: wait=25', '0', null],
      ['5 over Prefer: wait=25', '5', 'wait=5'],
    ])('should win over Prefer: ?wait=%s', async (_, wait, expected) => {
      const server = await startServer(ENV);
      const client = new JobsClient(server.url);
      const job = await client.createOk({ duration: 0 });
      await client.waitFor(job.id, (copy) => copy.status === 'completed');

      const res = await get<Job>(client, `/status/${job.id}`, 'wait=25', { wait });

      expect(res.status).toBe(200);
      expect(applied(res)).toBe(expected);
    });

    it.each([
      ['not a number', 'wait=soon'],
      ['negative', 'wait=-1'],
      ['fractional', 'wait=1.5'],
      ['empty', 'wait='],
      ['too long', 'wait=1234567890123456'],
      ['given twice', 'wait=1&wait=2'],
      ['given with after', 'after=1&wait=5'],
    ])('should answer 400 INVALID_QUERY to a wait %s, holding nothing', async (_, query) => {
      const server = await startServer(ENV);
      const client = new JobsClient(server.url);
      const job = await client.createOk();

      for (const path of [`/status/${job.id}`, '/status']) {
        if (query.startsWith('after') && path !== '/status') continue;
        const res = await requestJson<ApiError>(`${client.url(path)}&${query}`);

        expect(res.status).toBe(400);
        expect(res.body.code).toBe('INVALID_QUERY');
      }
      expect(holding(server)).toEqual(NOTHING);
    });
  });

  describe('held waits: limits, disconnects and shutdown', () => {
    it('should hold at most MAX_WAITS_PER_CLIENT per client and answer the next at once', async () => {
      const server = await startServer({ ...ENV, MAX_WAITS_PER_CLIENT: '2' });
      const client = new JobsClient(server.url);
      const other = new JobsClient(server.url);
      const job = await client.createOk();
      const otherJob = await other.createOk();

      const held = [1, 2].map(() => get<Job>(client, `/status/${job.id}`, 'wait=25'));
      await untilHeld(server, 2);
      const over = await get<Job>(client, `/status/${job.id}`, 'wait=25');
      const otherHeld = get<Job>(other, `/status/${otherJob.id}`, 'wait=25');
      await untilHeld(server, 3);

      expect(over.status).toBe(200);
      expect(over.body.status).toBe('running');
      expect(applied(over)).toBeNull();
      expect(over.headers.get('x-next-poll-ms')).toMatch(/^\d+$/);
      await client.cancel(job.id);
      await other.cancel(otherJob.id);
      for (const res of [...(await Promise.all(held)), await otherHeld]) {
        expect(res.body.status).toBe('cancelled');
        expect(applied(res)).toBe('wait=25');
      }
      await expectNothingHeld(server);
    });

    it('should free the listener and the timer at once when the client disconnects', async () => {
      const server = await startServer(ENV);
      const client = new JobsClient(server.url);
      const job = await client.createOk();
      const abort = new AbortController();

      const pending = fetch(client.url(`/status/${job.id}`), {
        headers: { Prefer: 'wait=25' },
        signal: abort.signal,
      }).catch((error: unknown) => error);
      await untilHeld(server, 1);
      expect(holding(server)).toEqual({
        held: 1,
        timers: 1,
        taken: 1,
        clients: 1,
        subscriptions: 1,
      });
      abort.abort();

      expect(await pending).toMatchObject({ name: 'AbortError' });
      await expectNothingHeld(server);
    });

    it('should free a held batch whose connection drops', async () => {
      const server = await startServer(ENV);
      const client = new JobsClient(server.url);
      const job = await client.createOk();
      const connection = await RawConnection.open(server.url);

      const { search } = new URL(client.url('/status', { ids: String(job.id) }));
      connection.write(rawRequest('GET', `/status${search}`, { Prefer: 'wait=25' }));
      await untilHeld(server, 1);
      connection.destroy();

      await expectNothingHeld(server);
    });

    it('should answer held requests as they are when the server stops, and close their connections', async () => {
      const server = await startServer(ENV);
      const client = new JobsClient(server.url);
      const job = await client.createOk();
      const connection = await RawConnection.open(server.url);
      const { search } = new URL(client.url(`/status/${job.id}`));

      connection.write(rawRequest('GET', `/status/${job.id}${search}`, { Prefer: 'wait=25' }));
      const batch = get<Batch>(client, '/status', 'wait=25', { ids: String(job.id) });
      await untilHeld(server, 2);
      await server.close();
      await connection.waitFor((text) => parseResponses(text).length === 1);
      await connection.waitForClose();
      const [single] = connection.responses();
      const batchRes = await batch;

      expect(single?.status).toBe(200);
      expect(JSON.parse(single?.body ?? '')).toMatchObject({ id: job.id, status: 'running' });
      expect(single?.headers['preference-applied']).toBeUndefined();
      expect(single?.headers.connection).toBe('close');
      expect(batchRes.status).toBe(200);
      expect(batchRes.body.jobs).toEqual([expect.objectContaining({ status: 'running' })]);
      expect(applied(batchRes)).toBeNull();
      expect(holding(server)).toEqual(NOTHING);
    });
  });

  describe('held waits across origins', () => {
    it('should let a browser send Prefer and read Preference-Applied', async () => {
      const server = await startServer({ ...ENV, CORS_ORIGINS: 'https://app.example.com' });
      const client = new JobsClient(server.url);
      const job = await client.createOk({ duration: 0 });
      await client.waitFor(job.id, (copy) => copy.status === 'completed');

      const preflight = await fetch(client.url(`/status/${job.id}`), {
        method: 'OPTIONS',
        headers: {
          Origin: 'https://app.example.com',
          'Access-Control-Request-Method': 'GET',
          'Access-Control-Request-Headers': 'prefer',
        },
      });
      const res = await requestJson(client.url(`/status/${job.id}`), {
        headers: { Origin: 'https://app.example.com', Prefer: 'wait=5' },
      });

      expect(preflight.status).toBeLessThan(300);
      expect(preflight.headers.get('access-control-allow-headers')?.toLowerCase()).toContain(
        'prefer',
      );
      expect(res.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
      expect(res.headers.get('access-control-expose-headers')?.toLowerCase()).toContain(
        'preference-applied',
      );
      expect(applied(res)).toBe('wait=5');
      expect(varies(res)).toEqual(expect.arrayContaining(['origin', 'prefer']));
    });
  });
});

describe('held waits with the redis driver', () => {
  const redis = useTestRedis();

  it('should wake a wait held by one instance when another finishes the job', async () => {
    const env = { ...ENV, JOBS_DRIVER: 'redis', REDIS_URL: redis.url };
    const [holder, other] = [await startServer(env), await startServer(env)];
    const onHolder = new JobsClient(holder.url);
    const onOther = new JobsClient(other.url, { clientId: onHolder.clientId });
    const job = await onOther.createOk();

    const pending = get<Job>(onHolder, `/status/${job.id}`, 'wait=25');
    await untilHeld(holder, 1);
    await onOther.cancel(job.id);
    const res = await pending;

    expect(res.body).toMatchObject({ id: job.id, status: 'cancelled' });
    expect(applied(res)).toBe('wait=25');
    await expectNothingHeld(holder);
  });
});
