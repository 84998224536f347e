import { openSse, type Job } from 'heygen-test-support';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it, vi } from 'vitest';
import { describeEachAdapter } from './support/adapters.js';
import { requestJson } from './support/http.js';
import { startReceiver, type Received } from './support/webhook-receiver.js';
import { JobsClient } from './support/jobs-client.js';
import { cancel } from '../src/domain/job.js';
import { RedisConnections } from '../src/redis/redis-connections.js';
import { BullmqJobRunner } from '../src/runner/bullmq-job-runner.js';
import { JOB_STORE, type JobStore } from '../src/store/job-store.js';
import { type InMemoryWebhookQueue } from '../src/webhooks/in-memory-webhook-queue.js';
import { type InMemoryWebhookState } from '../src/webhooks/in-memory-webhook-state.js';
import { type DeliveryHistory } from '../src/webhooks/webhook-dispatcher.js';
import { WEBHOOK_QUEUE } from '../src/webhooks/webhook-queue.js';
import { WEBHOOK_STATE } from '../src/webhooks/webhook-state.js';
import { useTestRedis } from './support/redis-server.js';
import { startServer, type TestServer } from './support/server.js';

const ENV = {
  JOB_TIME: '100',
  PROGRESS_INTERVAL_MS: '20',
  HEARTBEAT_MS: '60000',
  // Every test receiver is on loopback.
  WEBHOOK_ALLOW_PRIVATE: 'true',
  WEBHOOK_RETRY_SCHEDULE: '0,50,50,50',
  WEBHOOK_TIMEOUT_MS: '300',
};

/** What `GET /status/:id/deliveries` answers, as the server declares it. */
type History = DeliveryHistory;

async function setUp(env: Record<string, string> = {}) {
  const server = await startServer({ ...ENV, ...env });
  const client = new JobsClient(server.url);
  const secret = await secretOf(server, client);
  return { server, client, verifier: new Webhook(secret) };
}

async function secretOf(_server: TestServer, client: JobsClient): Promise<string> {
  const res = await requestJson<{ secret: string }>(client.url('/webhooks/secret'));
  expect(res.status).toBe(200);
  expect(res.body.secret).toMatch(/^whsec_/);
  return res.body.secret;
}

const history = async (client: JobsClient, id: number) =>
  requestJson<History & { code?: string }>(client.url(`/status/${id}/deliveries`));

/** Polls the history until `done` holds. */
const historyUntil = (client: JobsClient, id: number, done: (h: History) => boolean) =>
  vi.waitFor(
    async () => {
      const { body } = await history(client, id);
      if (!done(body)) throw new Error(`history: ${JSON.stringify(body)}`);
      return body;
    },
    { timeout: 5000, interval: 20 },
  );

/** A sample of `GET /metrics`: its value, summed over the series matching `labels`. */
async function metric(server: TestServer, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}${labels} `) || line.startsWith(`${name}{${labels}`))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

const payloadOf = (received: Received) =>
  JSON.parse(received.body) as { type: string; timestamp: string; data: Job };

describeEachAdapter(() => {
  describe('webhooks: delivery', () => {
    it('should deliver the final event, signed per Standard Webhooks', async () => {
      const { client, verifier } = await setUp();
      const receiver = await startReceiver();
      const job = await client.createOk({ webhook: receiver.url });

      await vi.waitFor(() => expect(receiver.received).toHaveLength(1), { timeout: 5000 });
      const [delivery] = receiver.received;
      expect(() => verifier.verify(delivery!.body, delivery!.headers)).not.toThrow();
      expect(delivery!.headers['content-type']).toBe('application/json');
      const payload = payloadOf(delivery!);
      expect(payload.type).toBe('job.completed');
      expect(payload.data).toMatchObject({ id: job.id, status: 'completed', progress: 100 });
      expect(payload.timestamp).toBe(payload.data.updatedAt);

      const { body } = await historyUntil(client, job.id, (h) => h.attempts.length === 1).then(
        (h) => ({ body: h }),
      );
      expect(body.webhook).toBe(receiver.url);
      expect(body.attempts[0]).toMatchObject({
        eventId: delivery!.headers['webhook-id'],
        type: 'job.completed',
        attempt: 1,
        statusCode: 200,
      });
      expect(body.attempts[0]!.nextAttemptAt).toBeUndefined();
    });

    it('should send only the events asked for, running and progress included, canceled as cancelled', async () => {
      const { client, verifier } = await setUp({ JOB_TIME: '2000' });
      const receiver = await startReceiver();
      const job = await client.createOk({
        webhook: receiver.url,
        webhookEvents: ['running', 'progress', 'canceled'],
      });
      await vi.waitFor(
        () => expect(receiver.received.map((r) => payloadOf(r).type)).toContain('job.progress'),
        { timeout: 5000 },
      );
      await client.cancel(job.id);
      await vi.waitFor(
        () => expect(receiver.received.map((r) => payloadOf(r).type)).toContain('job.cancelled'),
        { timeout: 5000 },
      );
      const types = receiver.received.map((r) => payloadOf(r).type);
      expect(types).toContain('job.running');
      expect(types).not.toContain('job.completed');
      for (const delivery of receiver.received) {
        expect(() => verifier.verify(delivery.body, delivery.headers)).not.toThrow();
      }
      const { body } = await history(client, job.id);
      expect(body.events).toEqual(['running', 'progress', 'cancelled']);
    });

    it("should send as webhook-id the stream's event id for the same change", async () => {
      const { client } = await setUp();
      const receiver = await startReceiver();
      const stream = await openSse(client.url('/status'));
      await stream.nextEvent('connected');
      const job = await client.createOk({ webhook: receiver.url });

      let final: { id?: string; data: Job } | undefined;
      while (!final) {
        const event = await stream.nextEvent<Job>('job');
        if (event.data.id === job.id && event.data.status === 'completed') final = event;
      }
      await vi.waitFor(() => expect(receiver.received).toHaveLength(1), { timeout: 5000 });
      expect(final.id).toBeDefined();
      expect(receiver.received[0]!.headers['webhook-id']).toBe(final.id);
      expect(payloadOf(receiver.received[0]!).data).toEqual(final.data);
      // One cursor (issue 19): the job it carries names the same event.
      expect(payloadOf(receiver.received[0]!).data.eventId).toBe(final.id);
    });

    it('should retry after a 500 and record both attempts', async () => {
      const { client, verifier } = await setUp();
      const receiver = await startReceiver((_req, res, index) => {
        res.statusCode = index === 0 ? 500 : 200;
        res.end();
      });
      const job = await client.createOk({ webhook: receiver.url });
      const done = await historyUntil(client, job.id, (h) => h.attempts.length === 2);
      expect(done.attempts.map((a) => [a.attempt, a.statusCode])).toEqual([
        [1, 500],
        [2, 200],
      ]);
      expect(done.attempts[0]!.nextAttemptAt).toBeDefined();
      expect(done.attempts[0]!.deliveryId).toBe(done.attempts[1]!.deliveryId);
      // The same event, the same id: the receiver de-duplicates on it.
      expect(receiver.received[0]!.headers['webhook-id']).toBe(
        receiver.received[1]!.headers['webhook-id'],
      );
      expect(() =>
        verifier.verify(receiver.received[1]!.body, receiver.received[1]!.headers),
      ).not.toThrow();
    });

    it('should stop after a 410', async () => {
      const { server, client } = await setUp();
      const receiver = await startReceiver((_req, res) => {
        res.statusCode = 410;
        res.end();
      });
      const job = await client.createOk({ webhook: receiver.url });
      const done = await historyUntil(client, job.id, (h) => h.attempts.length >= 1);
      expect(done.attempts[0]).toMatchObject({ attempt: 1, statusCode: 410 });
      expect(done.attempts[0]!.nextAttemptAt).toBeUndefined();
      expect(
        await metric(server, 'heygen_webhook_deliveries_given_up_total', 'reason="gone"'),
      ).toBe(1);
      // A 500 would have been retried 50 ms later (WEBHOOK_RETRY_SCHEDULE): a second job whose
      // receiver answers 500 shows the retry has had time to come, and the 410 one had none.
      const control = await startReceiver((_req, res) => {
        res.statusCode = 500;
        res.end();
      });
      const other = await client.createOk({ webhook: control.url });
      await historyUntil(client, other.id, (h) => h.attempts.length >= 2);
      expect((await history(client, job.id)).body.attempts).toHaveLength(1);
      expect(receiver.received).toHaveLength(1);
    });

    it('should show no retry to come for a delivery a 410 cancelled', async () => {
      // The running event's first attempt fails (500) and promises a retry 2 s on; the 410 to the
      // completed event, meanwhile, cancels it: its history must not still promise it.
      const { client } = await setUp({ WEBHOOK_RETRY_SCHEDULE: '0,2000', JOB_TIME: '100' });
      const receiver = await startReceiver((_req, res, index) => {
        res.statusCode = index === 0 ? 500 : 410;
        res.end();
      });
      const job = await client.createOk({
        webhook: receiver.url,
        webhookEvents: ['running', 'completed'],
      });

      const done = await historyUntil(client, job.id, (h) =>
        h.attempts.some((attempt) => attempt.statusCode === 410),
      );

      expect(done.attempts[0]).toMatchObject({ type: 'job.running', statusCode: 500 });
      expect(done.attempts.every((attempt) => attempt.nextAttemptAt === undefined)).toBe(true);
    });

    it('should retry a receiver that hangs past the timeout', async () => {
      const { client } = await setUp({ WEBHOOK_TIMEOUT_MS: '100' });
      const receiver = await startReceiver((_req, res, index) => {
        if (index > 0) res.end('ok');
        // index 0: never answered
      });
      const job = await client.createOk({ webhook: receiver.url });
      const done = await historyUntil(client, job.id, (h) => h.attempts.length === 2);
      expect(done.attempts[0]).toMatchObject({ attempt: 1, error: 'timeout' });
      expect(done.attempts[0]!.durationMs).toBeGreaterThanOrEqual(90);
      expect(done.attempts[1]).toMatchObject({ attempt: 2, statusCode: 200 });
    });

    it('should retry after the receiver resets the connection', async () => {
      const { client } = await setUp();
      const receiver = await startReceiver((req, res, index) => {
        if (index === 0) req.socket.destroy();
        else res.end('ok');
      });
      const job = await client.createOk({ webhook: receiver.url });
      const done = await historyUntil(client, job.id, (h) => h.attempts.length === 2);
      expect(done.attempts[0]).toMatchObject({ attempt: 1, error: 'connection reset' });
      expect(done.attempts[1]).toMatchObject({ attempt: 2, statusCode: 200 });
    });

    it('should give up when the schedule is over', async () => {
      const { server, client } = await setUp({ WEBHOOK_RETRY_SCHEDULE: '0,10,10' });
      const receiver = await startReceiver((_req, res) => {
        res.statusCode = 503;
        res.end();
      });
      const job = await client.createOk({ webhook: receiver.url });
      const done = await historyUntil(client, job.id, (h) => h.attempts.length === 3);
      expect(done.attempts.map((a) => a.statusCode)).toEqual([503, 503, 503]);
      expect(done.attempts[2]!.nextAttemptAt).toBeUndefined();
      expect(done.attempts[1]!.nextAttemptAt).toBeDefined();
      const givenUp = (reason: string) =>
        metric(server, 'heygen_webhook_deliveries_given_up_total', `reason="${reason}"`);
      expect(await givenUp('schedule_ended')).toBe(1);
      expect(await givenUp('gone')).toBe(0);
    });

    it('should not follow a redirect, and record it as a failure', async () => {
      const { client } = await setUp({ WEBHOOK_RETRY_SCHEDULE: '0' });
      const target = await startReceiver();
      const receiver = await startReceiver((_req, res) => {
        res.statusCode = 307;
        res.setHeader('location', target.url);
        res.end();
      });
      const job = await client.createOk({ webhook: receiver.url });
      const done = await historyUntil(client, job.id, (h) => h.attempts.length === 1);
      expect(done.attempts[0]).toMatchObject({ statusCode: 307 });
      expect(done.attempts[0]!.nextAttemptAt).toBeUndefined();
      expect(target.received).toHaveLength(0);
    });

    it('should read at most 64 KiB of a 10 MB answer, without a crash', async () => {
      const { client } = await setUp();
      let written = 0;
      const receiver = await startReceiver((_req, res) => {
        res.statusCode = 200;
        const chunk = Buffer.alloc(64 * 1024, 'x');
        const write = (): void => {
          while (written < 10 * 1024 * 1024) {
            written += chunk.length;
            if (!res.write(chunk)) return void res.once('drain', write);
          }
          res.end();
        };
        res.on('error', () => {});
        write();
      });
      const job = await client.createOk({ webhook: receiver.url });
      const done = await historyUntil(client, job.id, (h) => h.attempts.length === 1);
      expect(done.attempts[0]).toMatchObject({ statusCode: 200 });
      // The sender stopped reading: far from the whole body was taken from the socket.
      expect(written).toBeLessThan(10 * 1024 * 1024);
      expect((await client.status(job.id)).status).toBe(200);
    });

    it('should make one attempt of retries asked while one is under way (review of 2026-11-30)', async () => {
      const { client } = await setUp({ WEBHOOK_TIMEOUT_MS: '1000', WEBHOOK_RETRY_SCHEDULE: '0' });
      // The first delivery is answered; every later attempt hangs until the timeout.
      const receiver = await startReceiver((_req, res, index) => {
        if (index === 0) res.end('ok');
      });
      const job = await client.createOk({ webhook: receiver.url });
      const first = await historyUntil(client, job.id, (h) => h.attempts.length === 1);
      const { deliveryId } = first.attempts[0]!;

      const retries = await Promise.all(
        Array.from({ length: 20 }, () =>
          requestJson(client.url(`/status/${job.id}/deliveries/${deliveryId}/retry`), {
            method: 'POST',
          }),
        ),
      );

      expect(retries.map(({ status }) => status)).toEqual(Array(20).fill(202));
      const done = await historyUntil(client, job.id, (h) => h.attempts.length >= 2);
      expect(done.attempts).toHaveLength(2);
      expect(receiver.received).toHaveLength(2);
    });

    it('should redeliver on the retry endpoint', async () => {
      const { client } = await setUp();
      const receiver = await startReceiver();
      const job = await client.createOk({ webhook: receiver.url });
      const first = await historyUntil(client, job.id, (h) => h.attempts.length === 1);
      const { deliveryId } = first.attempts[0]!;
      const res = await requestJson(
        client.url(`/status/${job.id}/deliveries/${deliveryId}/retry`),
        { method: 'POST' },
      );
      expect(res.status).toBe(202);
      const done = await historyUntil(client, job.id, (h) => h.attempts.length === 2);
      expect(done.attempts[1]).toMatchObject({ deliveryId, attempt: 2, statusCode: 200 });
      expect(receiver.received).toHaveLength(2);
      expect(receiver.received[1]!.headers['webhook-id']).toBe(
        receiver.received[0]!.headers['webhook-id'],
      );

      const unknown = await requestJson<{ code: string }>(
        client.url(`/status/${job.id}/deliveries/nope/retry`),
        { method: 'POST' },
      );
      expect(unknown.status).toBe(404);
      expect(unknown.body.code).toBe('DELIVERY_NOT_FOUND');
    });

    it("should answer 404 JOB_NOT_FOUND for another client's deliveries", async () => {
      const { server, client } = await setUp();
      const receiver = await startReceiver();
      const job = await client.createOk({ webhook: receiver.url });
      const done = await historyUntil(client, job.id, (h) => h.attempts.length === 1);
      const other = new JobsClient(server.url);
      const list = await history(other, job.id);
      expect(list.status).toBe(404);
      expect(list.body.code).toBe('JOB_NOT_FOUND');
      const retry = await requestJson<{ code: string }>(
        other.url(`/status/${job.id}/deliveries/${done.attempts[0]!.deliveryId}/retry`),
        { method: 'POST' },
      );
      expect(retry.status).toBe(404);
      expect(retry.body.code).toBe('JOB_NOT_FOUND');
    });

    it('should list no deliveries for a job without a webhook', async () => {
      const { client } = await setUp();
      const job = await client.createOk();
      const { status, body } = await history(client, job.id);
      expect(status).toBe(200);
      expect(body).toEqual({ webhook: null, events: [], attempts: [] });
    });
  });

  describe('webhooks: signing secret', () => {
    it('should sign with both secrets during the grace period after a rotation', async () => {
      const { client, verifier: old } = await setUp();
      const rotated = await requestJson<{ secret: string; previousValidUntil: string }>(
        client.url('/webhooks/secret/rotate'),
        { method: 'POST' },
      );
      expect(rotated.status).toBe(200);
      expect(rotated.body.secret).toMatch(/^whsec_/);
      expect(await secretOf(undefined as never, client)).toBe(rotated.body.secret);
      const receiver = await startReceiver();
      await client.createOk({ webhook: receiver.url });
      await vi.waitFor(() => expect(receiver.received).toHaveLength(1), { timeout: 5000 });
      const [delivery] = receiver.received;
      expect(delivery!.headers['webhook-signature']!.split(' ')).toHaveLength(2);
      expect(() => old.verify(delivery!.body, delivery!.headers)).not.toThrow();
      expect(() =>
        new Webhook(rotated.body.secret).verify(delivery!.body, delivery!.headers),
      ).not.toThrow();
    });

    it("should keep the first rotation's secret signing through a second rotation (review of 2026-11-30)", async () => {
      const { client, verifier: first } = await setUp();
      const rotate = () =>
        requestJson<{ secret: string }>(client.url('/webhooks/secret/rotate'), { method: 'POST' });
      const second = (await rotate()).body.secret;
      const third = (await rotate()).body.secret;
      const receiver = await startReceiver();

      await client.createOk({ webhook: receiver.url });
      await vi.waitFor(() => expect(receiver.received).toHaveLength(1), { timeout: 5000 });

      const [delivery] = receiver.received;
      expect(delivery!.headers['webhook-signature']!.split(' ')).toHaveLength(3);
      for (const verifier of [first, new Webhook(second), new Webhook(third)]) {
        expect(() => verifier.verify(delivery!.body, delivery!.headers)).not.toThrow();
      }
    });

    it('should give each API key its own secret', async () => {
      const server = await startServer({ ...ENV, API_KEYS: 'key-one,key-two' });
      const one = new JobsClient(server.url, { apiKey: 'key-one' });
      const get = (apiKey: string) =>
        requestJson<{ secret: string }>(one.url('/webhooks/secret'), {
          headers: { Authorization: `Bearer ${apiKey}` },
        });
      const [a, b] = await Promise.all([get('key-one'), get('key-two')]);
      expect(a.body.secret).toMatch(/^whsec_/);
      expect(a.body.secret).not.toBe(b.body.secret);
      expect((await requestJson(one.url('/webhooks/secret'))).status).toBe(401);
    });
  });

  describe('webhooks: bad input', () => {
    it.each([
      ['a relative URL', { webhook: '/hooks' }, 'INVALID_WEBHOOK_URL'],
      ['an unsupported scheme', { webhook: 'ftp://example.com/hook' }, 'INVALID_WEBHOOK_URL'],
      ['credentials in the URL', { webhook: 'http://a:b@127.0.0.1/hook' }, 'INVALID_WEBHOOK_URL'],
      [
        'a URL over 2048 characters',
        { webhook: `https://example.com/${'x'.repeat(2048)}` },
        'INVALID_BODY',
      ],
      ['a webhook that is not a string', { webhook: 42 }, 'INVALID_BODY'],
      [
        'an unknown event',
        { webhook: 'http://127.0.0.1/h', webhookEvents: ['done'] },
        'INVALID_BODY',
      ],
      ['no events', { webhook: 'http://127.0.0.1/h', webhookEvents: [] }, 'INVALID_BODY'],
      ['events without a webhook', { webhookEvents: ['completed'] }, 'INVALID_BODY'],
    ])('should answer 400 to %s', async (_name, body, code) => {
      const { client } = await setUp();
      const res = await client.create(body);
      expect(res.status).toBe(400);
      expect(res.body.code).toBe(code);
    });

    it.each([
      'http://127.0.0.1:9/hook',
      'http://localhost/hook',
      'http://10.1.2.3/hook',
      'http://169.254.169.254/latest/meta-data',
      'http://[::1]/hook',
      'http://[::ffff:127.0.0.1]/hook',
    ])('should refuse %s without WEBHOOK_ALLOW_PRIVATE', async (webhook) => {
      const { client } = await setUp({ WEBHOOK_ALLOW_PRIVATE: 'false' });
      const res = await client.create({ webhook });
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('WEBHOOK_URL_PRIVATE');
    });
  });
});

/** The `job.progress` deliveries a receiver got, in order. */
const progressOf = (received: Received[]) =>
  received.map(payloadOf).filter((payload) => payload.type === 'job.progress');

/**
 * A job whose `progress` delivery fails, retried 1 s later, finishes 400 ms after it starts: its
 * final delivery replaces the progress one, which is not retried (review of 2026-12-01).
 */
async function expectProgressRetryDropped(client: JobsClient) {
  const receiver = await startReceiver((_req, res, index) => {
    res.statusCode = payloadOf(receiver.received[index]!).type === 'job.progress' ? 500 : 200;
    res.end();
  });
  const job = await client.createOk({
    webhook: receiver.url,
    webhookEvents: ['progress', 'completed'],
  });
  const done = await historyUntil(client, job.id, (h) =>
    h.attempts.some((a) => a.type === 'job.completed' && a.statusCode === 200),
  );
  const progress = done.attempts.filter((a) => a.type === 'job.progress');
  expect(progress).toHaveLength(1);
  expect(progress[0]).toMatchObject({ statusCode: 500 });
  // Not on the schedule any more: the history promises no retry.
  expect(progress[0]!.nextAttemptAt).toBeUndefined();
  // Past the 1 s the retry was due at, none came.
  await new Promise((resolve) => setTimeout(resolve, 1300));
  expect(progressOf(receiver.received)).toHaveLength(1);
}

describe('webhooks: progress volume (review of 2026-12-01)', () => {
  it('should send at most one progress webhook per WEBHOOK_PROGRESS_INTERVAL_MS, the latest', async () => {
    // 2 s of progress reported every 20 ms: about 100 changes.
    const { client, verifier } = await setUp({ JOB_TIME: '2000' });
    const receiver = await startReceiver();
    const job = await client.createOk({
      webhook: receiver.url,
      webhookEvents: ['progress', 'completed'],
    });
    await vi.waitFor(
      () => expect(receiver.received.map((r) => payloadOf(r).type)).toContain('job.completed'),
      { timeout: 5000 },
    );
    const progress = progressOf(receiver.received);
    // One at once, then one per 500 ms window: 2 s / 500 ms + 1, and a window of timer slack.
    expect(progress.length).toBeGreaterThanOrEqual(2);
    expect(progress.length).toBeLessThanOrEqual(6);
    const revisions = progress.map((payload) => payload.data.revision);
    expect(revisions).toEqual([...revisions].sort((a, b) => a - b));
    for (const delivery of receiver.received) {
      expect(() => verifier.verify(delivery.body, delivery.headers)).not.toThrow();
      expect(payloadOf(delivery).data.id).toBe(job.id);
    }
  });

  it('should not retry a failed progress webhook once a later change replaced it', async () => {
    const { client } = await setUp({
      JOB_TIME: '400',
      WEBHOOK_RETRY_SCHEDULE: '0,1000,1000',
      WEBHOOK_PROGRESS_INTERVAL_MS: '5000',
    });
    await expectProgressRetryDropped(client);
  });
});

/** The env of the cap tests: jobs that end at once, every delivery pending for a minute. */
const capEnv = (retained: number) => ({
  JOB_TIME: '0',
  MAX_ACTIVE_JOBS: String(retained),
  MAX_RETAINED_JOBS: String(retained),
  // A retry 2.5 s after the first attempt (after the next batch is created, on a loaded machine
  // too), then one a minute on: every delivery stays pending.
  WEBHOOK_RETRY_SCHEDULE: '0,2500,60000',
});

/**
 * Creates `batches` × `size` jobs with a webhook to `receiver`, a batch at a time, each batch once
 * the one before had every first attempt made (then `afterBatch` checks). Returns their ids, oldest
 * first.
 */
async function createInBatches(
  client: JobsClient,
  receiver: { url: string; received: Received[] },
  batches: number,
  size: number,
  afterBatch: () => void = () => {},
): Promise<number[]> {
  const ids: number[] = [];
  for (let batch = 0; batch < batches; batch++) {
    const jobs = await Promise.all(
      Array.from({ length: size }, () => client.createOk({ webhook: receiver.url })),
    );
    ids.push(...jobs.map((job) => job.id));
    await vi.waitFor(() => expect(receiver.received.length).toBeGreaterThanOrEqual(ids.length), {
      timeout: 5000,
      interval: 10,
    });
    afterBatch();
  }
  return ids;
}

/** Each job's webhook got its retry: attempts 1 and 2, both answered 500. */
async function expectRetried(client: JobsClient, ids: number[]): Promise<void> {
  for (const id of ids) {
    const done = await historyUntil(client, id, (h) => h.attempts.length === 2);
    expect(done.attempts.map((a) => [a.attempt, a.statusCode])).toEqual([
      [1, 500],
      [2, 500],
    ]);
  }
}

describe('webhooks: memory bounded by MAX_RETAINED_JOBS (review of 2026-12-02)', () => {
  it("should hold at most MAX_RETAINED_JOBS webhooks, giving up the oldest finished jobs' retries, and retry those still held", async () => {
    const RETAINED = 20;
    const { server, client } = await setUp(capEnv(RETAINED));
    const receiver = await startReceiver((_req, res) => {
      res.statusCode = 500;
      res.end();
    });
    const state = server.app.get<symbol, InMemoryWebhookState>(WEBHOOK_STATE);
    const queue = server.app.get<symbol, InMemoryWebhookQueue>(WEBHOOK_QUEUE);

    // 100 jobs that finish at once, by tens (MAX_ACTIVE_JOBS), each delivery answered 500.
    const ids = await createInBatches(client, receiver, 10, 10, () => {
      expect(state.held).toBeLessThanOrEqual(RETAINED);
      expect(queue.size).toBeLessThanOrEqual(RETAINED);
    });

    // Each job's first attempt was made; the 80 oldest finished gave up their retry (it held
    // every one: 100 bodies until due, and for the whole schedule on a real one).
    expect(
      await metric(
        server,
        'heygen_webhook_deliveries_given_up_total',
        'reason="retained_jobs_cap"',
      ),
    ).toBe(80);
    expect(await metric(server, 'heygen_webhook_deliveries_queued')).toBeLessThanOrEqual(RETAINED);
    expect(queue.entriesHeld).toBeLessThanOrEqual(RETAINED + 64);
    // The 20 jobs still held get their retry; the job itself is kept as long as its webhook.
    await expectRetried(client, ids.slice(-RETAINED));
    // Forgotten at the same cap: its receiver could not have reconciled with GET /status either.
    expect((await history(client, ids[0]!)).status).toBe(404);
    expect(state.held).toBeLessThanOrEqual(RETAINED);
    expect(queue.size).toBeLessThanOrEqual(RETAINED);
  });
});

describe('webhooks: redis driver, bounded by MAX_RETAINED_JOBS', () => {
  // A Redis of its own: the cap counts every job of the deployment, other tests' too.
  const redis = useTestRedis();

  it('should give up the retries of the oldest finished jobs it forgets, as the memory driver does, and retry those still held', async () => {
    const RETAINED = 5;
    const server = await startServer({
      ...ENV,
      JOBS_DRIVER: 'redis',
      REDIS_URL: redis.url,
      ...capEnv(RETAINED),
    });
    const client = new JobsClient(server.url);
    const receiver = await startReceiver((_req, res) => {
      res.statusCode = 500;
      res.end();
    });

    // 15 jobs that finish at once, by fives, each first attempt answered 500 before the next
    // five are created: each of those forgets one of the five before, its delivery pending.
    const ids = await createInBatches(client, receiver, 3, RETAINED);
    expect(
      await metric(
        server,
        'heygen_webhook_deliveries_given_up_total',
        'reason="retained_jobs_cap"',
      ),
    ).toBe(10);

    // The five jobs still held get their retry; the ten forgotten never do (their retries came
    // due first).
    await expectRetried(client, ids.slice(-RETAINED));
    const sentFor = (id: number) =>
      receiver.received.filter((delivery) => payloadOf(delivery).data.id === id).length;
    for (const id of ids.slice(0, -RETAINED)) {
      expect(sentFor(id)).toBe(1);
      expect((await history(client, id)).status).toBe(404);
    }
  });
});

describe('webhooks: redis driver', () => {
  const redis = useTestRedis();

  const redisEnv = () => ({ ...ENV, JOBS_DRIVER: 'redis', REDIS_URL: redis.url });

  it('should deliver from any instance, and show the history on every one', async () => {
    const [a, b] = await Promise.all([startServer(redisEnv()), startServer(redisEnv())]);
    const onA = new JobsClient(a.url);
    const onB = new JobsClient(b.url, { clientId: onA.clientId });
    const verifier = new Webhook(await secretOf(a, onA));
    const receiver = await startReceiver((_req, res, index) => {
      res.statusCode = index === 0 ? 500 : 200;
      res.end();
    });
    const job = await onA.createOk({ webhook: receiver.url, webhookEvents: ['completed'] });
    const done = await historyUntil(onB, job.id, (h) => h.attempts.length === 2);
    expect(done.attempts.map((a) => a.statusCode)).toEqual([500, 200]);
    expect(receiver.received).toHaveLength(2);
    for (const delivery of receiver.received) {
      expect(() => verifier.verify(delivery.body, delivery.headers)).not.toThrow();
    }
    expect(payloadOf(receiver.received[1]!).data).toMatchObject({
      id: job.id,
      status: 'completed',
    });
    const other = await history(new JobsClient(b.url), job.id);
    expect(other.status).toBe(404);
  });

  it('should make a retry pending at a restart once, after it', async () => {
    const env = { ...redisEnv(), WEBHOOK_RETRY_SCHEDULE: '0,1500' };
    const first = await startServer(env);
    const client = new JobsClient(first.url);
    const receiver = await startReceiver((_req, res, index) => {
      res.statusCode = index === 0 ? 500 : 200;
      res.end();
    });
    const job = await client.createOk({ webhook: receiver.url });
    await historyUntil(client, job.id, (h) => h.attempts.length === 1);
    await first.close();

    const second = await startServer(env);
    const again = new JobsClient(second.url, { clientId: client.clientId });
    const done = await historyUntil(again, job.id, (h) => h.attempts.length === 2);
    expect(done.attempts.map((a) => [a.attempt, a.statusCode])).toEqual([
      [1, 500],
      [2, 200],
    ]);
    expect(receiver.received).toHaveLength(2);
    expect(receiver.received[1]!.headers['webhook-id']).toBe(
      receiver.received[0]!.headers['webhook-id'],
    );
  });

  it('should deliver a change whose instance died before queueing it, when another takes the job over', async () => {
    // A has no worker: the job waits in the queue, as when its instance died.
    const a = await startServer({ ...redisEnv(), RUNNER_CONCURRENCY: '0' });
    const client = new JobsClient(a.url);
    const verifier = new Webhook(await secretOf(a, client));
    const receiver = await startReceiver();
    const job = await client.createOk({ duration: 10_000, webhook: receiver.url });
    // The change stored (and its event logged) by an instance that died before telling the
    // webhooks: the store alone changes the job.
    const stored = await a.app
      .get<JobStore>(JOB_STORE)
      .update(client.clientId, job.id, (current) => cancel(current, Date.now()));
    expect(stored?.job.status).toBe('cancelled');
    expect(receiver.received).toHaveLength(0);

    // B's worker takes the queued job, finds it finished, and tells the webhooks.
    await startServer(redisEnv());
    const done = await historyUntil(client, job.id, (h) => h.attempts.length === 1);
    expect(done.attempts[0]).toMatchObject({ type: 'job.cancelled', statusCode: 200 });
    expect(receiver.received).toHaveLength(1);
    const delivered = receiver.received[0]!;
    expect(() => verifier.verify(delivered.body, delivered.headers)).not.toThrow();
    expect(delivered.headers['webhook-id']).toBe(stored?.job.eventId);
  });

  it('should deliver a cancel once, though both the cancelling instance and the runner tell it', async () => {
    const [a, b] = await Promise.all([
      startServer({ ...redisEnv(), RUNNER_CONCURRENCY: '0' }),
      startServer(redisEnv()),
    ]);
    const client = new JobsClient(a.url);
    const receiver = await startReceiver();
    const job = await client.createOk({ duration: 10_000, webhook: receiver.url });
    await client.waitFor(job.id, (current) => current.status === 'running');

    const cancelled = await client.cancel(job.id);
    expect(cancelled.status).toBe(200);
    // B's simulation stops at the cancel and tells the webhooks the final change again.
    await vi.waitFor(() => expect(b.app.get(BullmqJobRunner).running).toBe(0), { interval: 20 });
    const done = await historyUntil(client, job.id, (h) => h.attempts.length >= 1);
    // Given the runner's second telling time to land, if it were to make a second delivery.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(receiver.received).toHaveLength(1);
    expect((await history(client, job.id)).body.attempts).toEqual(done.attempts);
  });

  it('should not retry a failed progress webhook once a later change replaced it', async () => {
    const server = await startServer({
      ...redisEnv(),
      JOB_TIME: '400',
      WEBHOOK_RETRY_SCHEDULE: '0,1000,1000',
      WEBHOOK_PROGRESS_INTERVAL_MS: '5000',
    });
    await expectProgressRetryDropped(new JobsClient(server.url));
  });

  it('should go on with the schedule after a retry asked during an automatic attempt (review of 2026-12-02)', async () => {
    const server = await startServer({
      ...redisEnv(),
      WEBHOOK_RETRY_SCHEDULE: '0,500,500,500',
      WEBHOOK_TIMEOUT_MS: '3000',
    });
    const client = new JobsClient(server.url);
    let answerAutomatic: (() => void) | undefined;
    // Every attempt fails. The second automatic one is held until the retry asked meanwhile has
    // come; it is answered first, the retry 200 ms later.
    const receiver = await startReceiver((_req, res, index) => {
      res.statusCode = 500;
      if (index === 1) answerAutomatic = () => res.end();
      else if (index === 2) {
        answerAutomatic?.();
        setTimeout(() => res.end(), 200);
      } else res.end();
    });
    const job = await client.createOk({ webhook: receiver.url });
    const first = await historyUntil(client, job.id, (h) => h.attempts.length === 1);
    await vi.waitFor(() => expect(receiver.received).toHaveLength(2), { interval: 20 });
    const retry = await requestJson(
      client.url(`/status/${job.id}/deliveries/${first.attempts[0]!.deliveryId}/retry`),
      { method: 'POST' },
    );
    expect(retry.status).toBe(202);

    // Four automatic attempts, the schedule's, and the one asked for: the retry saved its own
    // copy of the delivery, from before the automatic attempt, and put the schedule back a step;
    // the next attempt then found its BullMQ id taken, and no attempt came again.
    const done = await historyUntil(client, job.id, (h) => h.attempts.length === 5);
    expect(receiver.received).toHaveLength(5);
    expect(done.attempts.at(-1)!.nextAttemptAt).toBeUndefined();
  });

  it('should show every instance the same generated secret, kept in Redis', async () => {
    const env = { ...ENV, JOBS_DRIVER: 'redis', REDIS_URL: redis.url };
    const [a, b] = await Promise.all([startServer(env), startServer(env)]);
    const clientId = new JobsClient(a.url).clientId;
    const [first, second] = await Promise.all(
      [a, b].map((server) => secretOf(server, new JobsClient(server.url, { clientId }))),
    );
    expect(first).toBe(second);
  });

  it('should have every instance sign with one generated secret again after Redis lost its data (review of 2026-12-01)', async () => {
    const env = { ...ENV, JOBS_DRIVER: 'redis', REDIS_URL: redis.url };
    const a = await startServer(env);
    const clientId = new JobsClient(a.url).clientId;
    await secretOf(a, new JobsClient(a.url, { clientId }));
    await a.app.get(RedisConnections).command.flushall();

    // An instance started after the loss, and one from before it.
    const c = await startServer(env);
    const [before, after] = await Promise.all(
      [a, c].map((server) => secretOf(server, new JobsClient(server.url, { clientId }))),
    );
    expect(before).toBe(after);
  });

  it('should rotate on one instance and sign with both secrets on every other', async () => {
    const [a, b] = await Promise.all([startServer(redisEnv()), startServer(redisEnv())]);
    const onA = new JobsClient(a.url);
    const onB = new JobsClient(b.url, { clientId: onA.clientId });
    const old = await secretOf(a, onA);
    const receiver = await startReceiver((_req, res) => res.end());

    const rotated = await requestJson<{ secret: string }>(onA.url('/webhooks/secret/rotate'), {
      method: 'POST',
    });
    expect(rotated.status).toBe(200);
    expect(await secretOf(b, onB)).toBe(rotated.body.secret);
    // Created and delivered through the other instance: both secrets verify its signature.
    const job = await onB.createOk({ webhook: receiver.url, webhookEvents: ['completed'] });
    await historyUntil(onB, job.id, (h) => h.attempts.length === 1);
    const [delivery] = receiver.received;
    for (const secret of [old, rotated.body.secret]) {
      expect(() => new Webhook(secret).verify(delivery!.body, delivery!.headers)).not.toThrow();
    }
  });
});
