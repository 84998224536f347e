import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { openSse, type Batch, type Job } from 'heygen-test-support';
import { JOB_EVENTS, type JobEvents } from '../src/events/job-events.js';
import { JOB_RUNNER } from '../src/runner/job-runner.js';
import { type SimulatedJobRunner } from '../src/runner/simulated-job-runner.js';
import { OPEN_STREAMS, type OpenStreams } from '../src/sse/open-streams.js';
import { JOB_STORE } from '../src/store/job-store.js';
import { type InMemoryJobStore } from '../src/store/in-memory-job-store.js';
import { newClientId } from './support/client-id.js';
import { requestJson } from './support/http.js';
import { JobsClient } from './support/jobs-client.js';
import { parseResponses, RawConnection, rawRequest } from './support/raw-socket.js';
import { startServer, type TestServer } from './support/server.js';
import { describeEachAdapter } from './support/adapters.js';
import { useTestRedis } from './support/redis-server.js';

// The attacks of issue 18, kept: each one took the server down or let a client see or hold what
// is not its own, before the fix its test names.

const STREAM = { Accept: 'text/event-stream' };

/** The stream, the subscriptions and the runner's work the server holds now. */
function held(server: TestServer): { streams: number; subscriptions: number } {
  return {
    streams: server.app.get<OpenStreams>(OPEN_STREAMS).openStreams,
    subscriptions: server.app.get<JobEvents>(JOB_EVENTS).subscriptionCount(),
  };
}

async function expectNothingHeld(server: TestServer): Promise<void> {
  await vi.waitFor(() => expect(held(server)).toEqual({ streams: 0, subscriptions: 0 }), {
    timeout: 5000,
  });
}

/**
 * MAX_ACTIVE_JOBS_PER_ADDRESS=2 on `servers` (one, or the instances of a deployment): two fresh
 * uuids of this address fill it, a third is refused `429`, and a job that ends frees a place.
 */
async function expectAddressCap(...servers: TestServer[]): Promise<void> {
  const on = (i: number) => new JobsClient(servers[i % servers.length]!.url);
  const first = on(0);
  const running = await first.createOk({ duration: 60_000 });
  await on(1).createOk({ duration: 60_000 });

  const refused = await on(2).create({ duration: 60_000 });
  expect(refused.status).toBe(429);
  expect(refused.body).toMatchObject({ code: 'TOO_MANY_JOBS' });
  expect(refused.body.message).toContain('address');
  expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);

  expect(
    (await new JobsClient(servers.at(-1)!.url, { clientId: first.clientId }).cancel(running.id))
      .status,
  ).toBe(200);
  expect((await on(3).create({ duration: 60_000 })).status).toBe(201);
}

describeEachAdapter(() => {
  describe('adversarial: pipelined event streams (finding 1)', () => {
    it('should free every stream of a connection when it closes, queued ones included', async () => {
      const server = await startServer({ MAX_STREAMS_PER_CLIENT: '2', HEARTBEAT_MS: '60000' });
      const attacker = new JobsClient(server.url);
      const victim = new JobsClient(server.url);

      // A stream for the attacker, and one for the victim queued behind it on the same connection;
      // then the connection goes. Twice: the victim's whole allowance.
      for (let i = 0; i < 2; i++) {
        const connection = await RawConnection.open(server.url);
        connection.write(
          rawRequest(
            'GET',
            new URL(attacker.url('/status')).search.replace(/^/, '/status'),
            STREAM,
          ) +
            rawRequest(
              'GET',
              new URL(victim.url('/status')).search.replace(/^/, '/status'),
              STREAM,
            ),
        );
        await connection.waitFor((text) => text.includes('event: connected'));
        connection.destroy();
      }
      await expectNothingHeld(server);

      const first = await openSse(victim.url('/status'));
      const second = await openSse(victim.url('/status'));
      expect([first.status, second.status]).toEqual([200, 200]);
    });

    it('should refuse a stream pipelined behind another request, holding nothing for it', async () => {
      const server = await startServer({ HEARTBEAT_MS: '60000' });
      const client = new JobsClient(server.url);
      const connection = await RawConnection.open(server.url);

      const search = new URL(client.url('/status')).search;
      connection.write(
        rawRequest('GET', `/status/1${search}`) + rawRequest('GET', `/status${search}`, STREAM),
      );
      await connection.waitFor((text) => parseResponses(text).length === 2);

      const [lookup, stream] = connection.responses();
      expect(lookup?.status).toBe(404);
      expect(stream?.status).toBe(400);
      expect(JSON.parse(stream!.body)).toMatchObject({ code: 'STREAM_PIPELINED' });
      await expectNothingHeld(server);
    });
  });

  describe('adversarial: HEAD (finding 11)', () => {
    it('should answer HEAD on the stream with its head alone, holding no stream', async () => {
      const server = await startServer({ HEARTBEAT_MS: '60000' });
      const client = new JobsClient(server.url);
      const connection = await RawConnection.open(server.url);
      const search = new URL(client.url('/status')).search;

      // A HEAD answered with a body, or never ended, would spoil the response after it.
      connection.write(
        rawRequest('HEAD', `/status${search}`, STREAM) + rawRequest('GET', '/health'),
      );
      await connection.waitFor((text) => parseResponses(text, new Set([0])).length === 2);

      const [head, health] = parseResponses(connection.received, new Set([0]));
      expect(head).toMatchObject({ status: 200, body: '' });
      expect(head?.headers['content-type']).toBe('text/event-stream; charset=utf-8');
      expect(health).toMatchObject({ status: 200 });
      expect(JSON.parse(health!.body)).toMatchObject({ status: 'ok' });
      expect(held(server)).toEqual({ streams: 0, subscriptions: 0 });
    });

    it('should answer HEAD on every GET route with headers only', async () => {
      const server = await startServer();
      const client = new JobsClient(server.url);
      const job = await client.createOk();
      const search = new URL(client.url('/status')).search;
      const paths = [
        `/status/${job.id}${search}`,
        `/status${search}`,
        `/status${search}&ids=${job.id}`,
        '/health',
        '/docs',
        '/docs/openapi.json',
        '/docs/openapi.yaml',
        '/nowhere',
      ];
      const connection = await RawConnection.open(server.url);

      connection.write(
        paths.map((path) => rawRequest('HEAD', path)).join('') + rawRequest('GET', '/health'),
      );
      const heads = new Set(paths.map((_, i) => i));
      await connection.waitFor((text) => parseResponses(text, heads).length === paths.length + 1);

      const responses = parseResponses(connection.received, heads);
      expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200, 200, 404, 200]);
      expect(responses.slice(0, -1).every((r) => r.body === '')).toBe(true);
      expect(JSON.parse(responses.at(-1)!.body)).toMatchObject({ status: 'ok' });
    });
  });

  describe('adversarial: request bodies (findings 13, 14)', () => {
    it('should refuse a declared body over the limit from its headers, and close the connection', async () => {
      const server = await startServer({ MAX_BODY_BYTES: '1024' });
      const client = new JobsClient(server.url);
      const connection = await RawConnection.open(server.url);
      const search = new URL(client.url('/create')).search;

      connection.write(
        rawRequest('POST', `/create${search}`, {
          'Content-Type': 'application/json',
          'Content-Length': 100_000_000,
        }) + '{"duration": ',
      );
      await connection.waitFor((text) => parseResponses(text).length === 1, 2000);

      const [answer] = connection.responses();
      expect(answer?.status).toBe(413);
      expect(answer?.headers.connection).toBe('close');
      expect(JSON.parse(answer!.body)).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
      await connection.waitForClose(2000);
      expect((await client.batch()).body.jobs).toEqual([]);
    });

    it('should refuse an unauthenticated body unread, and close the connection', async () => {
      const server = await startServer({ API_KEYS: 'the-key' });
      const connection = await RawConnection.open(server.url);

      connection.write(
        rawRequest('POST', `/create?uuid=${crypto.randomUUID()}`, {
          'Content-Type': 'application/json',
          'Content-Length': 500,
        }),
      );
      await connection.waitFor((text) => parseResponses(text).length === 1, 2000);

      expect(connection.responses()[0]).toMatchObject({ status: 401 });
      await connection.waitForClose(2000);
    });

    it('should answer a preflight that declares a body, and close the connection (review of 2026-12-01)', async () => {
      const server = await startServer();
      const connection = await RawConnection.open(server.url);

      // No key and no Origin needed: Node read and discarded such a body, gigabytes of it, until
      // REQUEST_TIMEOUT_MS.
      connection.write(
        rawRequest('OPTIONS', '/create', { 'Content-Length': 100_000_000 }) + 'x'.repeat(1000),
      );
      await connection.waitFor((text) => parseResponses(text).length === 1, 2000);

      const [answer] = connection.responses();
      expect(answer?.status).toBe(204);
      expect(answer?.headers.connection).toBe('close');
      await connection.waitForClose(2000);
    });

    it('should refuse a chunked body the moment it passes the limit', async () => {
      const server = await startServer({ MAX_BODY_BYTES: '64' });
      const client = new JobsClient(server.url);
      const connection = await RawConnection.open(server.url);
      const search = new URL(client.url('/create')).search;
      const chunk = 'x'.repeat(100);

      connection.write(
        rawRequest('POST', `/create${search}`, {
          'Content-Type': 'application/json',
          'Transfer-Encoding': 'chunked',
        }) + `${chunk.length.toString(16)}\r\n${chunk}\r\n`,
      );
      await connection.waitFor((text) => parseResponses(text).length === 1, 2000);

      expect(connection.responses()[0]).toMatchObject({ status: 413 });
      await connection.waitForClose(2000);
    });

    it.each([
      ['no content type', {}],
      ['a JSON content type', { 'Content-Type': 'application/json' }],
      ['a text content type', { 'Content-Type': 'text/plain' }],
    ])('should take an empty chunked body with %s as no body', async (_, headers) => {
      const server = await startServer({ JOB_TIME: '250' });
      const client = new JobsClient(server.url);
      const connection = await RawConnection.open(server.url);
      const search = new URL(client.url('/create')).search;

      connection.write(
        rawRequest('POST', `/create${search}`, { ...headers, 'Transfer-Encoding': 'chunked' }) +
          '0\r\n\r\n',
      );
      await connection.waitFor((text) => parseResponses(text).length === 1);

      const [answer] = connection.responses();
      expect(answer?.status).toBe(201);
      expect(JSON.parse(answer!.body)).toMatchObject({ duration: 250, status: 'pending' });
    });

    it('should drop a connection that takes longer than HEADERS_TIMEOUT_MS to send its headers', async () => {
      const server = await startServer({ HEADERS_TIMEOUT_MS: '300', REQUEST_TIMEOUT_MS: '300' });
      const connection = await RawConnection.open(server.url);

      connection.write('GET /health HTTP/1.1\r\nHost: localhost\r\n');

      await connection.waitForClose(3000);
      expect(connection.received).toMatch(/^HTTP\/1\.1 408/);
    });

    it('should answer a body that comes slower than REQUEST_TIMEOUT_MS 408 REQUEST_TIMEOUT and close', async () => {
      const server = await startServer({ HEADERS_TIMEOUT_MS: '300', REQUEST_TIMEOUT_MS: '600' });
      const connection = await RawConnection.open(server.url);

      // Headers in time, then a body that keeps coming, a byte every 50 ms, but would take 5 s in
      // full: the timeout bounds the whole request, however busy the connection.
      const sentAt = Date.now();
      connection.write(
        rawRequest('POST', `/create?uuid=${newClientId()}`, {
          'Content-Type': 'application/json',
          'Content-Length': '100',
        }),
      );
      const trickle = setInterval(() => connection.write(' '), 50);
      onTestFinished(() => clearInterval(trickle));

      await connection.waitForClose(3000);
      expect(Date.now() - sentAt).toBeGreaterThanOrEqual(550);
      const [answer] = connection.responses();
      expect(answer?.status).toBe(408);
      expect(answer?.headers.connection).toBe('close');
      expect(JSON.parse(answer!.body)).toMatchObject({ statusCode: 408, code: 'REQUEST_TIMEOUT' });
    });

    it('should answer headers over 16 KiB 431 HEADERS_TOO_LARGE and close the connection', async () => {
      const server = await startServer();
      const connection = await RawConnection.open(server.url);

      connection.write(rawRequest('GET', '/health', { 'X-Padding': 'x'.repeat(20_000) }));

      await connection.waitForClose(3000);
      const [answer] = connection.responses();
      expect(answer?.status).toBe(431);
      expect(JSON.parse(answer!.body)).toMatchObject({ code: 'HEADERS_TOO_LARGE' });
    });

    it('should answer a request that is not HTTP 400 BAD_REQUEST and close the connection', async () => {
      const server = await startServer();
      const connection = await RawConnection.open(server.url);

      connection.write('GET /health HTTP/1.1\r\nHost localhost\r\n\r\n');

      await connection.waitForClose(3000);
      const [answer] = connection.responses();
      expect(answer?.status).toBe(400);
      expect(JSON.parse(answer!.body)).toMatchObject({ code: 'BAD_REQUEST' });
    });

    it('should close an idle keep-alive connection after KEEP_ALIVE_TIMEOUT_MS', async () => {
      const server = await startServer({ KEEP_ALIVE_TIMEOUT_MS: '1000' });
      const connection = await RawConnection.open(server.url);
      connection.write(rawRequest('GET', '/health'));
      await connection.waitFor((text) => parseResponses(text).length === 1);
      const answeredAt = Date.now();

      await connection.waitForClose(5000);

      // Closed by the server once idle for the timeout, not before.
      expect(Date.now() - answeredAt).toBeGreaterThanOrEqual(900);
      expect(connection.responses()[0]?.headers['keep-alive']).toBe('timeout=1');
    });

    it('should end a keep-alive connection after MAX_REQUESTS_PER_SOCKET requests', async () => {
      const server = await startServer({ MAX_REQUESTS_PER_SOCKET: '2' });
      const connection = await RawConnection.open(server.url);

      connection.write(rawRequest('GET', '/health') + rawRequest('GET', '/health'));
      await connection.waitFor((text) => parseResponses(text).length === 2);

      // Node marks the last response, and refuses what comes after it on that connection.
      expect(connection.responses()[1]?.headers.connection).toBe('close');
      connection.write(rawRequest('GET', '/health'));
      await connection.waitFor((text) => parseResponses(text).length === 3);
      expect(connection.responses()[2]?.status).toBe(503);
    });
  });

  describe('adversarial: what Node or one router answered alone (review of 2026-11-30)', () => {
    it('should answer an HTTP/1.1 request without Host 400 BAD_REQUEST in JSON and close', async () => {
      const server = await startServer();
      const connection = await RawConnection.open(server.url);

      connection.write('GET /health HTTP/1.1\r\nOrigin: https://app.example.com\r\n\r\n');

      await connection.waitForClose(3000);
      const [answer] = connection.responses();
      expect(answer?.status).toBe(400);
      expect(JSON.parse(answer!.body)).toMatchObject({ code: 'BAD_REQUEST' });
      expect(answer?.headers['x-request-id']).toMatch(/^[\w-]{36}$/);
      expect(answer?.headers['access-control-allow-origin']).toBe('*');
    });

    it('should answer a request with an unknown expectation as if it had none', async () => {
      const server = await startServer();
      const client = new JobsClient(server.url);
      const connection = await RawConnection.open(server.url);
      const search = new URL(client.url('/create')).search;

      connection.write(rawRequest('POST', `/create${search}`, { Expect: 'the-unexpected' }));
      await connection.waitFor((text) => parseResponses(text).length === 1);

      const [answer] = connection.responses();
      expect(answer?.status).toBe(201);
      const job = JSON.parse(answer!.body) as Job;
      expect((await client.status(job.id)).status).toBe(200);
    });

    it('should close the connection after a HEAD of the stream that asks it to', async () => {
      const server = await startServer({ HEARTBEAT_MS: '60000' });
      const client = new JobsClient(server.url);
      const connection = await RawConnection.open(server.url);
      const search = new URL(client.url('/status')).search;

      connection.write(rawRequest('HEAD', `/status${search}`, { ...STREAM, Connection: 'close' }));

      await connection.waitForClose(3000);
      const [head] = parseResponses(connection.received, new Set([0]));
      expect(head).toMatchObject({ status: 200, body: '' });
      expect(head?.headers.connection).toBe('close');
    });

    it('should ignore a fragment sent in the request target', async () => {
      const server = await startServer();
      const client = new JobsClient(server.url);
      const job = await client.createOk();
      const connection = await RawConnection.open(server.url);
      const search = new URL(client.url('/status')).search;

      connection.write(rawRequest('GET', `/status/${job.id}${search}#fragment`));
      await connection.waitFor((text) => parseResponses(text).length === 1);

      const [answer] = connection.responses();
      expect(answer?.status).toBe(200);
      expect(JSON.parse(answer!.body)).toMatchObject({ id: job.id });
    });
  });

  describe('adversarial: floods under the caps (findings 2, 7)', () => {
    it('should keep at most MAX_JOBS_PER_CLIENT jobs, so batches and snapshots stay bounded', async () => {
      const server = await startServer({
        MAX_JOBS_PER_CLIENT: '20',
        MAX_ACTIVE_JOBS_PER_CLIENT: '5',
      });
      const client = new JobsClient(server.url);

      const ids: number[] = [];
      for (let i = 0; i < 60; i++) {
        const res = await client.create({ duration: 0 });
        expect(res.status).toBe(201);
        ids.push(res.body.id);
        await client.waitFor(res.body.id, (job) => job.status === 'completed');
      }

      const batch = (await client.batch()).body;
      expect(batch.jobs.map((job) => job.id)).toEqual(ids.slice(-20));
      const stream = await openSse(client.url('/status'));
      expect((await stream.nextEvent<Batch>('snapshot')).data.jobs).toHaveLength(20);
      const evicted = await client.status(ids[0]!);
      expect(evicted.status).toBe(404);
      expect(evicted.body.code).toBe('JOB_NOT_FOUND');
    });

    it('should keep at most MAX_RETAINED_JOBS jobs of all clients, forgetting the oldest finished first', async () => {
      const server = await startServer({ MAX_ACTIVE_JOBS: '2', MAX_RETAINED_JOBS: '3' });
      // Fresh uuids bypass the per-client cap; the server's cap holds across them.
      const clients = Array.from({ length: 3 }, () => new JobsClient(server.url));
      const finished = [];
      for (const client of clients.slice(0, 2)) {
        const { id } = await client.createOk({ duration: 0 });
        await client.waitFor(id, (job) => job.status === 'completed');
        finished.push({ client, id });
      }
      const running = await clients[2]!.createOk({ duration: 60_000 });

      await clients[2]!.createOk({ duration: 0 });

      const evicted = await finished[0]!.client.status(finished[0]!.id);
      expect(evicted.status).toBe(404);
      expect(evicted.body.code).toBe('JOB_NOT_FOUND');
      expect((await finished[1]!.client.status(finished[1]!.id)).status).toBe(200);
      expect((await clients[2]!.status(running.id)).body.status).toBe('running');
    });

    it('should answer 429 TOO_MANY_JOBS once the fresh uuids of one address reach MAX_ACTIVE_JOBS_PER_ADDRESS', async () => {
      await expectAddressCap(await startServer({ MAX_ACTIVE_JOBS_PER_ADDRESS: '2' }));
    });

    it('should answer 503 SERVER_JOBS_FULL with Retry-After once all clients together reach MAX_ACTIVE_JOBS', async () => {
      const server = await startServer({ MAX_ACTIVE_JOBS: '4', MAX_ACTIVE_JOBS_PER_CLIENT: '2' });
      const clients = Array.from({ length: 3 }, () => new JobsClient(server.url));

      for (const client of clients.slice(0, 2)) {
        await client.createOk({ duration: 60_000 });
        await client.createOk({ duration: 60_000 });
      }
      const refused = await clients[2]!.create({ duration: 60_000 });

      expect(refused.status).toBe(503);
      expect(refused.body).toMatchObject({ statusCode: 503, code: 'SERVER_JOBS_FULL' });
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    });

    it('should answer 503 SERVER_STREAMS_FULL with Retry-After once all clients together reach MAX_STREAMS', async () => {
      const server = await startServer({ MAX_STREAMS: '2', HEARTBEAT_MS: '60000' });
      const clients = Array.from({ length: 3 }, () => new JobsClient(server.url));

      const open = [
        await openSse(clients[0]!.url('/status')),
        await openSse(clients[1]!.url('/status')),
      ];
      const refused = await openSse(clients[2]!.url('/status'));

      expect(open.map((s) => s.status)).toEqual([200, 200]);
      expect(refused.status).toBe(503);
      expect(refused.headers['retry-after']).toBeDefined();
      expect(await refused.json()).toMatchObject({ code: 'SERVER_STREAMS_FULL' });
    });

    it('should run any number of jobs on one timer', async () => {
      const server = await startServer({ PROGRESS_INTERVAL_MS: '500' });
      const clients = Array.from({ length: 4 }, () => new JobsClient(server.url));
      const timers = (): number =>
        process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
      await clients[0]!.createOk({ duration: 600_000 });
      const before = timers();

      for (const client of clients) {
        await Promise.all(
          Array.from({ length: 250 }, () => client.createOk({ duration: 600_000 })),
        );
      }

      expect(server.app.get<SimulatedJobRunner>(JOB_RUNNER).running).toBe(1001);
      expect(server.app.get<InMemoryJobStore>(JOB_STORE).activeCount).toBe(1001);
      // Beside the runner's one timer, only what HTTP keeps (keep-alive sockets): not one per job.
      expect(timers() - before).toBeLessThan(50);
    });
  });

  describe('adversarial: clients are their key and their uuid (finding 15)', () => {
    it('should make the same uuid under another key another client', async () => {
      const server = await startServer({ API_KEYS: 'key-one,key-two', JOB_TIME: '5000' });
      const owner = new JobsClient(server.url, { apiKey: 'key-one' });
      const intruder = new JobsClient(server.url, { apiKey: 'key-two', clientId: owner.clientId });
      const job = await owner.createOk();

      expect((await intruder.status(job.id)).status).toBe(404);
      expect((await intruder.cancel(job.id)).status).toBe(404);
      expect((await intruder.batch()).body).toEqual({ jobs: [], missing: [] });
      expect((await intruder.batch([job.id])).body).toEqual({ jobs: [], missing: [job.id] });
      const stream = await openSse(owner.url('/status', { access_token: 'key-two' }));
      expect((await stream.nextEvent<Batch>('snapshot')).data.jobs).toEqual([]);
      expect((await owner.status(job.id)).body.status).not.toBe('cancelled');
    });
  });

  describe('adversarial: ids reveal nothing of other clients (finding 16)', () => {
    it("should number a client's jobs and events alike however busy other clients are", async () => {
      // Only Date is faked: the ids' clock stands still, so only counting would move them.
      vi.useFakeTimers({ toFake: ['Date'], now: Date.parse('2026-11-23T18:00:00.000Z') });
      try {
        const server = await startServer({ JOB_TIME: '60000' });
        const watcher = new JobsClient(server.url);
        const busy = new JobsClient(server.url);
        const stream = await openSse(watcher.url('/status'));
        const snapshot = await stream.nextEvent('snapshot');

        const first = await watcher.createOk();
        await Promise.all(Array.from({ length: 50 }, () => busy.createOk()));
        const second = await watcher.createOk();
        const events = [await stream.nextEvent<Job>('job'), await stream.nextEvent<Job>('job')];

        expect(second.id - first.id).toBe(1);
        const eventIds = [snapshot.id, ...events.map((event) => event.id)].map(Number);
        expect(eventIds.slice(1).map((id, i) => id - eventIds[i]!)).toEqual([1, 1]);
      } finally {
        vi.useRealTimers();
      }
    });
  });

  describe('adversarial: configuration', () => {
    it('should answer a request for a bad uuid before anything about the job', async () => {
      const server = await startServer();
      const res = await requestJson(`${server.url}/status/1?uuid=x`);
      expect(res.body).toMatchObject({ code: 'INVALID_CLIENT_ID' });
    });
  });
});

describe('adversarial: floods under the caps, redis driver (review of 2026-12-02)', () => {
  const redis = useTestRedis();

  it('should keep at most MAX_RETAINED_JOBS jobs of the whole deployment, forgetting the oldest finished first', async () => {
    const env = {
      JOBS_DRIVER: 'redis',
      REDIS_URL: redis.url,
      MAX_ACTIVE_JOBS: '2',
      MAX_RETAINED_JOBS: '3',
    };
    const [a, b] = [await startServer(env), await startServer(env)];
    // Fresh uuids, each instance: the deployment's cap holds across both.
    const finished = [];
    for (const server of [a, b]) {
      const client = new JobsClient(server.url);
      const { id } = await client.createOk({ duration: 0 });
      await client.waitFor(id, (job) => job.status === 'completed');
      finished.push({ client, id });
    }
    const onA = new JobsClient(a.url);
    const running = await onA.createOk({ duration: 60_000 });

    await new JobsClient(b.url, { clientId: onA.clientId }).createOk({ duration: 0 });

    const evicted = await finished[0]!.client.status(finished[0]!.id);
    expect(evicted.status).toBe(404);
    expect(evicted.body.code).toBe('JOB_NOT_FOUND');
    expect((await finished[1]!.client.status(finished[1]!.id)).status).toBe(200);
    expect((await onA.status(running.id)).body.status).toBe('running');
  });
});

describe('adversarial: one address, many uuids, redis driver (review of 2026-12-02)', () => {
  // A Redis of its own: the jobs left running here count in the deployment's MAX_ACTIVE_JOBS.
  const redis = useTestRedis();

  it('should hold MAX_ACTIVE_JOBS_PER_ADDRESS across instances', async () => {
    const env = { JOBS_DRIVER: 'redis', REDIS_URL: redis.url, MAX_ACTIVE_JOBS_PER_ADDRESS: '2' };
    await expectAddressCap(await startServer(env), await startServer(env));
  });
});
