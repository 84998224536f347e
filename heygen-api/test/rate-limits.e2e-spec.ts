import { describe, expect, it } from 'vitest';
import { openSse } from 'heygen-test-support';
import { describeEachAdapter } from './support/adapters.js';
import { requestJson } from './support/http.js';
import { JobsClient } from './support/jobs-client.js';
import { useTestRedis } from './support/redis-server.js';
import { startServer } from './support/server.js';

/** Long jobs and a long window: nothing finishes or resets while a test counts. */
const ENV = { JOB_TIME: '60000', RATE_LIMIT_WINDOW_MS: '60000' };

/** Expects the API's JSON 429 with a usable Retry-After. */
function expectRateLimited(res: { status: number; headers: Headers; body: unknown }): void {
  expect(res.status).toBe(429);
  expect(res.body).toMatchObject({ statusCode: 429, code: 'RATE_LIMITED' });
  const retryAfter = Number(res.headers.get('retry-after'));
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(60);
}

describeEachAdapter(() => {
  describe('rate limits (RATE_LIMIT_*)', () => {
    it('should refuse a client past its creations with 429 RATE_LIMITED, and no other client', async () => {
      const server = await startServer({ ...ENV, RATE_LIMIT_CREATES_PER_CLIENT: '3' });
      const [client, other] = [new JobsClient(server.url), new JobsClient(server.url)];

      for (let i = 0; i < 3; i++) await client.createOk();
      const refused = await client.create();

      expectRateLimited(refused);
      expect(refused.body.id).toBeUndefined();
      await other.createOk();
    });

    it('should send the limits with every counted answer, a refusal, an error and a stream too (review of 2026-12-01)', async () => {
      const env = {
        ...ENV,
        RATE_LIMIT_CREATES_PER_CLIENT: '2',
        RATE_LIMIT_STREAMS_PER_CLIENT: '2',
      };
      const server = await startServer(env);
      const client = new JobsClient(server.url);

      const badBody = await client.create({ bogus: 1 });
      await client.createOk();
      const refused = await client.create();
      const stream = await openSse(client.url('/status'));
      stream.destroy();

      expect(badBody.status).toBe(400);
      expect(badBody.headers.get('x-ratelimit-remaining-create-client')).toBe('1');
      expectRateLimited(refused);
      expect(Number(refused.headers.get('retry-after-create-client'))).toBeGreaterThanOrEqual(1);
      expect(stream.headers['x-ratelimit-remaining-stream-client']).toBe('1');
    });

    it('should count every client of one address together with a per-address limit', async () => {
      const server = await startServer({ ...ENV, RATE_LIMIT_CREATES_PER_ADDRESS: '4' });

      for (let i = 0; i < 4; i++) await new JobsClient(server.url).createOk();

      expectRateLimited(await new JobsClient(server.url).create());
    });

    it("should count the forwarded address under TRUST_PROXY, and the peer's without it", async () => {
      const env = { ...ENV, RATE_LIMIT_CREATES_PER_ADDRESS: '2' };
      const trusting = await startServer({ ...env, TRUST_PROXY: '127.0.0.1' });
      const create = (url: string, from: string) =>
        requestJson(new JobsClient(url).url('/create'), {
          method: 'POST',
          headers: { 'X-Forwarded-For': from },
        });

      for (const from of ['203.0.113.1', '203.0.113.1', '203.0.113.2', '203.0.113.2']) {
        expect((await create(trusting.url, from)).status).toBe(201);
      }
      expectRateLimited(await create(trusting.url, '203.0.113.1'));

      const plain = await startServer(env);
      await create(plain.url, '203.0.113.1');
      await create(plain.url, '203.0.113.2');
      expectRateLimited(await create(plain.url, '203.0.113.3'));
    });

    it('should count an IPv6 address by its /64 and an IPv4-mapped one as its IPv4 (review of 2026-12-02)', async () => {
      const server = await startServer({
        ...ENV,
        RATE_LIMIT_CREATES_PER_ADDRESS: '1',
        TRUST_PROXY: '127.0.0.1',
      });
      const create = (from: string) =>
        requestJson(new JobsClient(server.url).url('/create'), {
          method: 'POST',
          headers: { 'X-Forwarded-For': from },
        });

      // Two addresses of one /64 (compressed and in full, upper case): one budget.
      expect((await create('2001:db8:1:2::1')).status).toBe(201);
      expectRateLimited(await create('2001:DB8:1:2:FFFF:EEEE:DDDD:CCCC'));
      // Another /64 of the same /48: its own budget.
      expect((await create('2001:db8:1:3::1')).status).toBe(201);
      // An IPv4 address and the same address mapped into IPv6: one budget.
      expect((await create('198.51.100.7')).status).toBe(201);
      expectRateLimited(await create('::ffff:198.51.100.7'));
      expect((await create('::ffff:198.51.100.8')).status).toBe(201);
      expectRateLimited(await create('198.51.100.8'));
    });

    it('should count a request naming no valid client against its /64 under a per-client limit', async () => {
      const server = await startServer({
        ...ENV,
        RATE_LIMIT_CREATES_PER_CLIENT: '1',
        TRUST_PROXY: '127.0.0.1',
      });
      const create = (from: string) =>
        requestJson(`${server.url}/create?uuid=not-a-uuid`, {
          method: 'POST',
          headers: { 'X-Forwarded-For': from },
        });

      // Counted, then refused for its uuid; the same /64 again is past the limit.
      expect((await create('2001:db8:1:2::1')).status).toBe(400);
      expectRateLimited(await create('2001:db8:1:2::2'));
      expect((await create('2001:db8:1:3::1')).status).toBe(400);
    });

    it('should limit streams opened, not streams open, and leave plain polls alone', async () => {
      const server = await startServer({ ...ENV, RATE_LIMIT_STREAMS_PER_CLIENT: '2' });
      const client = new JobsClient(server.url);
      const job = await client.createOk();

      for (let i = 0; i < 2; i++) {
        const stream = await openSse(client.url('/status'));
        expect(stream.status).toBe(200);
        await stream.nextEvent('connected');
        stream.destroy();
      }
      const refused = await openSse(client.url('/status'));

      expect(refused.status).toBe(429);
      expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(await refused.json()).toMatchObject({ code: 'RATE_LIMITED' });
      for (let i = 0; i < 5; i++) expect((await client.status(job.id)).status).toBe(200);
    });

    it('should limit lists of all jobs (GET /status without ids), held or not, and no batch naming ids (review of 2026-12-02)', async () => {
      const server = await startServer({
        ...ENV,
        RATE_LIMIT_LISTS_PER_CLIENT: '3',
        RATE_LIMIT_WAITS_PER_CLIENT: '5',
      });
      const [client, other] = [new JobsClient(server.url), new JobsClient(server.url)];
      const job = await client.createOk();

      const first = await client.batch();
      expect(first.status).toBe(200);
      expect(first.headers.get('x-ratelimit-remaining-list-client')).toBe('2');
      expect((await requestJson(client.url('/status'), { method: 'HEAD' })).status).toBe(200);
      // A held list counts as a list and as a held wait.
      const held = await requestJson(client.url('/status', { wait: '1' }));
      expect(held.status).toBe(200);
      const refused = await client.batch();

      expectRateLimited(refused);
      expect(Number(refused.headers.get('retry-after-list-client'))).toBeGreaterThanOrEqual(1);
      expect(refused.body.jobs).toBeUndefined();
      for (let i = 0; i < 5; i++) expect((await client.batch([job.id])).status).toBe(200);
      expect((await client.status(job.id)).status).toBe(200);
      expect((await other.batch()).status).toBe(200);
      // Held waits left: 5 less the held list (past revision 0, each answers at once).
      for (let i = 0; i < 4; i++) {
        const wait = await requestJson(
          client.url(`/status/${job.id}`, { wait: '1', revision: '0' }),
        );
        expect(wait.status).toBe(200);
      }
      expectRateLimited(await requestJson(client.url(`/status/${job.id}`, { wait: '1' })));
    });

    it('should limit lists of all jobs per address', async () => {
      const server = await startServer({ ...ENV, RATE_LIMIT_LISTS_PER_ADDRESS: '2' });

      for (let i = 0; i < 2; i++)
        expect((await new JobsClient(server.url).batch()).status).toBe(200);

      expectRateLimited(await new JobsClient(server.url).batch());
    });

    it('should limit held waits, whichever status route holds them', async () => {
      const server = await startServer({ ...ENV, RATE_LIMIT_WAITS_PER_CLIENT: '2' });
      const client = new JobsClient(server.url);
      const job = await client.createOk();
      const held = (path: string) =>
        requestJson(client.url(path, path === '/status' ? { ids: String(job.id) } : {}), {
          headers: { Prefer: 'wait=1' },
        });

      expect((await held(`/status/${job.id}`)).status).toBe(200);
      expect((await held('/status')).status).toBe(200);
      expectRateLimited(await held(`/status/${job.id}`));
      expectRateLimited(await held('/status'));
      expect((await client.batch([job.id])).status).toBe(200);
    });

    it('should count a wait asked with ?wait= as one asked with Prefer', async () => {
      const server = await startServer({ ...ENV, RATE_LIMIT_WAITS_PER_CLIENT: '2' });
      const client = new JobsClient(server.url);
      const job = await client.createOk();
      const held = (path: string, wait: string) =>
        requestJson(client.url(path, { ...(path === '/status' && { ids: String(job.id) }), wait }));

      expect((await held(`/status/${job.id}`, '1')).status).toBe(200);
      // Not held: not counted.
      expect((await held('/status', '0')).status).toBe(200);
      expect((await held('/status', '1')).status).toBe(200);
      expectRateLimited(await held(`/status/${job.id}`, '1'));
      expectRateLimited(await held('/status', '1'));
    });

    it('should count only what opens a stream or holds a wait (review of 2026-11-30)', async () => {
      const server = await startServer({
        ...ENV,
        RATE_LIMIT_STREAMS_PER_CLIENT: '2',
        RATE_LIMIT_WAITS_PER_CLIENT: '2',
      });
      const client = new JobsClient(server.url);
      const job = await client.createOk();
      const eventStream = { Accept: 'text/event-stream' };
      const after = job.eventId!;

      for (let i = 0; i < 3; i++) {
        // The stream's head: no stream opened.
        const head = await requestJson(client.url('/status'), {
          method: 'HEAD',
          headers: eventStream,
        });
        expect(head.status).toBe(200);
        // A catch-up is never held, Prefer: wait or not.
        const catchUp = await requestJson(client.url('/status', { after }), {
          headers: { Prefer: 'wait=1' },
        });
        expect(catchUp.status).toBe(200);
        // One job's status is JSON whatever Accept says: a plain poll.
        const poll = await requestJson(client.url(`/status/${job.id}`), { headers: eventStream });
        expect(poll.status).toBe(200);
      }
      // Both budgets are still whole.
      for (let i = 0; i < 2; i++) {
        const stream = await openSse(client.url('/status'));
        expect(stream.status).toBe(200);
        stream.destroy();
        const held = await requestJson(client.url(`/status/${job.id}`), {
          headers: { ...eventStream, Prefer: 'wait=1' },
        });
        expect(held.status).toBe(200);
      }
      expectRateLimited(
        await requestJson(client.url(`/status/${job.id}`), { headers: { Prefer: 'wait=1' } }),
      );
    });
  });
});

describe('rate limits with the redis driver', () => {
  const redis = useTestRedis();

  it('should count one budget across instances', async () => {
    const env = {
      ...ENV,
      JOBS_DRIVER: 'redis',
      REDIS_URL: redis.url,
      RATE_LIMIT_CREATES_PER_CLIENT: '3',
    };
    const [first, second] = [await startServer(env), await startServer(env)];
    const onFirst = new JobsClient(first.url);
    const onSecond = new JobsClient(second.url, { clientId: onFirst.clientId });

    await onFirst.createOk();
    await onSecond.createOk();
    await onFirst.createOk();

    expectRateLimited(await onSecond.create());
    expectRateLimited(await onFirst.create());
  });
});
