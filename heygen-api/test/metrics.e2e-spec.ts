import { describe, expect, it, vi } from 'vitest';
import { openSse } from 'heygen-test-support';
import { describeEachAdapter } from './support/adapters.js';
import { JobsClient } from './support/jobs-client.js';
import { RawConnection, rawRequest } from './support/raw-socket.js';
import { useTestRedis } from './support/redis-server.js';
import { startServer, type TestServer } from './support/server.js';
import { startReceiver } from './support/webhook-receiver.js';

/** One sample of the Prometheus text format: `name{label="value",…} value`. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const SAMPLE = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)$/;
const LABEL = /(\w+)="((?:[^"\\]|\\.)*)"/g;

/** The samples of a scrape (comment lines, `# HELP` and `# TYPE`, left out). */
function parseMetrics(text: string): Sample[] {
  return text
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const [, name, labels = '', value] = SAMPLE.exec(line) ?? [];
      if (name === undefined || value === undefined) throw new Error(`not a sample: ${line}`);
      const parsed = Object.fromEntries([...labels.matchAll(LABEL)].map(([, k, v]) => [k!, v!]));
      return { name, labels: parsed, value: Number(value) };
    });
}

/** The scrape of `GET /metrics`, with the sum of the samples matching a name and some labels. */
async function scrape(server: TestServer) {
  const res = await fetch(`${server.url}/metrics`);
  expect(res.status).toBe(200);
  const samples = parseMetrics(await res.text());
  const value = (name: string, labels: Record<string, string> = {}): number =>
    samples
      .filter(
        (sample) =>
          sample.name === name &&
          Object.entries(labels).every(([key, wanted]) => sample.labels[key] === wanted),
      )
      .reduce((sum, sample) => sum + sample.value, 0);
  return { samples, value, contentType: res.headers.get('content-type') };
}

const redis = useTestRedis();

const ROUTES = new Set([
  '/create',
  '/status/:id',
  '/status',
  '/cancel/:id',
  '/metrics',
  '/health',
  'unmatched',
]);

describeEachAdapter(() => {
  describe('GET /metrics', () => {
    it('should count jobs, streams, polls and held waits by the amounts they happened', async () => {
      // Jobs long enough to poll, hold and cancel while they run.
      const server = await startServer({ JOB_TIME: '300', POLL_HINT_MARGIN_MS: '10' });
      const client = new JobsClient(server.url);
      const before = await scrape(server);

      const stream = await openSse(client.url('/status'));
      const { id: position } = await stream.nextEvent('snapshot');
      const completed = await client.createOk({ duration: 1000 });
      const failed = await client.createOk({ fail: true });
      const cancelled = await client.createOk({ duration: 60_000 });
      expect((await client.cancel(cancelled.id)).status).toBe(200);

      // A poll before the hint's moment: counted, but it says nothing about the hint.
      expect((await client.status(completed.id)).status).toBe(200);
      // A held wait, answered when the job finishes; counted as held while it waits.
      const held = fetch(client.url(`/status/${completed.id}`), {
        headers: { Prefer: 'wait=10' },
      });
      await vi.waitFor(async () =>
        expect((await scrape(server)).value('heygen_waits_held')).toBe(1),
      );
      expect((await held).status).toBe(200);
      await client.waitFor(failed.id, (job) => job.status === 'failed');
      // Polls after the hint's moment that find the final state: two lateness observations.
      expect((await client.status(completed.id)).body.status).toBe('completed');
      expect((await client.batch([failed.id])).status).toBe(200);

      const during = await scrape(server);
      expect(during.value('heygen_open_streams')).toBe(1);
      const replayed = await openSse(client.url('/status'), { 'Last-Event-ID': position! });
      await replayed.nextEvent('connected');
      const unknown = await openSse(client.url('/status'), { 'Last-Event-ID': 'nowhere' });
      await unknown.nextEvent('snapshot');
      expect((await scrape(server)).value('heygen_open_streams')).toBe(3);
      stream.destroy();
      replayed.destroy();
      unknown.destroy();
      await vi.waitFor(async () =>
        expect((await scrape(server)).value('heygen_open_streams')).toBe(0),
      );

      const after = await scrape(server);
      const moved = (name: string, labels?: Record<string, string>): number =>
        after.value(name, labels) - before.value(name, labels);
      expect(moved('heygen_jobs_created_total')).toBe(3);
      expect(moved('heygen_jobs_finished_total', { status: 'completed' })).toBe(1);
      expect(moved('heygen_jobs_finished_total', { status: 'failed' })).toBe(1);
      expect(moved('heygen_jobs_finished_total', { status: 'cancelled' })).toBe(1);
      expect(after.value('heygen_jobs_running')).toBe(0);
      expect(moved('heygen_stream_resumes_total', { answer: 'replay' })).toBe(1);
      expect(moved('heygen_stream_resumes_total', { answer: 'snapshot' })).toBe(1);
      // The first stream alone saw connected, snapshot and at least each job's creation and end.
      expect(moved('heygen_stream_events_sent_total')).toBeGreaterThanOrEqual(2 + 3 * 2);
      expect(moved('heygen_stream_events_dropped_total')).toBe(0);
      // Polls: the three single reads of client.status, the held one, waitFor's and the batch.
      expect(moved('heygen_poll_requests_total', { kind: 'single' })).toBeGreaterThanOrEqual(4);
      expect(moved('heygen_poll_requests_total', { kind: 'batch' })).toBe(1);
      expect(moved('heygen_waits_held_total')).toBe(1);
      expect(after.value('heygen_waits_held')).toBe(0);
      expect(moved('heygen_poll_hint_lateness_seconds_count')).toBeGreaterThanOrEqual(2);
      expect(
        moved('heygen_http_request_duration_seconds_count', {
          route: '/create',
          method: 'POST',
          status_code: '201',
        }),
      ).toBe(3);
      expect(
        moved('heygen_http_request_duration_seconds_count', {
          route: '/status/:id',
          method: 'GET',
          status_code: '200',
        }),
      ).toBe(moved('heygen_poll_requests_total', { kind: 'single' }));
      // The event streams are no request durations; the batch is.
      expect(
        moved('heygen_http_request_duration_seconds_count', { route: '/status', method: 'GET' }),
      ).toBe(1);

      // Never an id, a client or a URL in a label: the routes are patterns from a short list.
      for (const { labels } of after.samples) {
        for (const value of Object.values(labels)) expect(value).not.toContain(client.clientId);
        if (labels.route !== undefined) expect(ROUTES).toContain(labels.route);
      }
    });

    it('should not count a held read its client left as a poll (review of 2026-11-30)', async () => {
      const server = await startServer({ JOB_TIME: '60000' });
      const client = new JobsClient(server.url);
      const job = await client.createOk();
      const before = (await scrape(server)).value;
      const leaving = new AbortController();

      const held = fetch(client.url(`/status/${job.id}`), {
        headers: { Prefer: 'wait=20' },
        signal: leaving.signal,
      }).catch(() => 'left');
      await vi.waitFor(async () =>
        expect((await scrape(server)).value('heygen_waits_held')).toBe(1),
      );
      leaving.abort();
      expect(await held).toBe('left');
      await vi.waitFor(async () =>
        expect((await scrape(server)).value('heygen_waits_held')).toBe(0),
      );

      const after = (await scrape(server)).value;
      expect(after('heygen_poll_requests_total')).toBe(before('heygen_poll_requests_total'));
    });

    it('should count answers given before any route: a path that does not decode, a refused request', async () => {
      const server = await startServer();
      const client = new JobsClient(server.url);

      expect((await fetch(client.url('/status/%ZZ'))).status).toBe(400);
      const refused = await RawConnection.open(server.url);
      refused.write(rawRequest('GET', '/health', { 'X-Big': 'x'.repeat(20_000) }));
      await refused.waitForClose();
      expect(refused.received).toMatch(/^HTTP\/1\.1 431 /);

      const { value } = await scrape(server);
      const count = (labels: Record<string, string>): number =>
        value('heygen_http_request_duration_seconds_count', { route: 'unmatched', ...labels });
      expect(count({ method: 'GET', status_code: '400' })).toBe(1);
      expect(count({ method: 'other', status_code: '431' })).toBe(1);
    });

    it('should label a request refused before any route unmatched, whichever route it names (review of 2026-12-01)', async () => {
      const server = await startServer();
      const connection = await RawConnection.open(server.url);

      // HTTP/1.1 without Host: refused before routing on Express, after it on Fastify, which
      // counted it as /health's.
      connection.write('GET /health HTTP/1.1\r\n\r\n');
      await connection.waitForClose();
      expect(connection.received).toMatch(/^HTTP\/1\.1 400 /);

      const { value } = await scrape(server);
      const count = (route: string): number =>
        value('heygen_http_request_duration_seconds_count', {
          route,
          method: 'GET',
          status_code: '400',
        });
      expect(count('unmatched')).toBe(1);
      expect(count('/health')).toBe(0);
    });

    it('should label an unknown path unmatched, whatever the path', async () => {
      const server = await startServer();

      expect((await fetch(`${server.url}/no/such/path/12345`)).status).toBe(404);

      const { samples, value } = await scrape(server);
      expect(value('heygen_http_request_duration_seconds_count', { route: 'unmatched' })).toBe(1);
      expect(
        samples.some(({ labels }) => Object.values(labels).some((v) => v.includes('12345'))),
      ).toBe(false);
    });

    it('should time a stream refused like any answer, and leave an open stream out', async () => {
      const server = await startServer({ MAX_STREAMS: '1', MAX_STREAMS_PER_CLIENT: '1' });
      const open = await openSse(new JobsClient(server.url).url('/status'));
      expect(open.status).toBe(200);

      const refused = await openSse(new JobsClient(server.url).url('/status'));
      expect(refused.status).toBe(503);
      await refused.json();

      const { value } = await scrape(server);
      const count = (status: string): number =>
        value('heygen_http_request_duration_seconds_count', {
          route: '/status',
          method: 'GET',
          status_code: status,
        });
      expect(count('503')).toBe(1);
      expect(count('200')).toBe(0);
      open.destroy();
    });

    it('should label a CORS preflight unmatched, with its method and 204', async () => {
      const server = await startServer();

      const preflight = await fetch(`${server.url}/status/7`, {
        method: 'OPTIONS',
        headers: { Origin: 'https://app.example.com', 'Access-Control-Request-Method': 'GET' },
      });
      expect(preflight.status).toBe(204);

      const { value } = await scrape(server);
      expect(
        value('heygen_http_request_duration_seconds_count', {
          route: 'unmatched',
          method: 'OPTIONS',
          status_code: '204',
        }),
      ).toBe(1);
    });

    it('should count the events of a reader cut for falling behind', async () => {
      const server = await startServer({
        STREAM_BUFFER_BYTES: '1024',
        PROGRESS_INTERVAL_MS: '10',
        MAX_ACTIVE_JOBS_PER_CLIENT: '100000',
      });
      const client = new JobsClient(server.url);
      const slow = await openSse(client.url('/status'));
      await slow.nextEvent('snapshot');
      slow.pause();

      await vi.waitFor(
        async () => {
          const { value } = await scrape(server);
          if (value('heygen_stream_slow_reader_cuts_total') === 0) {
            await Promise.all(
              Array.from({ length: 50 }, () => client.createOk({ duration: 1000 })),
            );
          }
          expect(value('heygen_stream_slow_reader_cuts_total')).toBe(1);
        },
        { timeout: 20_000, interval: 200 },
      );
      const { value } = await scrape(server);
      expect(value('heygen_stream_events_dropped_total')).toBeGreaterThanOrEqual(1);
      slow.destroy();
    });

    it('should serve the Prometheus text format with the process metrics', async () => {
      const server = await startServer();

      const { contentType, value, samples } = await scrape(server);

      expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
      expect(samples.some(({ name }) => name === 'process_cpu_user_seconds_total')).toBe(true);
      expect(samples.some(({ name }) => name === 'nodejs_heap_size_used_bytes')).toBe(true);
      // Left out: they walk every socket, and 10,000 streams would make a scrape slow.
      expect(samples.some(({ name }) => name === 'process_open_fds')).toBe(false);
      expect(value('heygen_jobs_created_total')).toBe(0);
    });

    it('should keep the counts of two apps in one process apart', async () => {
      const first = await startServer();
      const second = await startServer();

      await new JobsClient(first.url).createOk();

      expect((await scrape(first)).value('heygen_jobs_created_total')).toBe(1);
      expect((await scrape(second)).value('heygen_jobs_created_total')).toBe(0);
    });

    it('should need no API key when API_KEYS is set', async () => {
      const server = await startServer({ API_KEYS: 'secret-key' });

      expect((await fetch(new JobsClient(server.url).url('/status/1'))).status).toBe(401);
      expect((await fetch(`${server.url}/metrics`)).status).toBe(200);
    });

    it('should count per instance with the redis driver, each its own part', async () => {
      const env = { JOBS_DRIVER: 'redis', REDIS_URL: redis.url, JOB_TIME: '200' };
      // Jobs are created through `front`, which runs none; `worker` runs them all.
      const front = await startServer({ ...env, RUNNER_CONCURRENCY: '0' });
      const worker = await startServer(env);
      const client = new JobsClient(front.url);
      const stream = await openSse(client.url('/status'));
      await stream.nextEvent('snapshot');
      const done = await client.createOk();
      const failed = await client.createOk({ fail: true });
      const cancelled = await client.createOk({ duration: 60_000 });
      await vi.waitFor(async () =>
        expect((await scrape(worker)).value('heygen_jobs_running')).toBeGreaterThanOrEqual(1),
      );
      expect((await client.cancel(cancelled.id)).status).toBe(200);
      await client.waitFor(done.id, (job) => job.status === 'completed');
      await client.waitFor(failed.id, (job) => job.status === 'failed');

      const [atFront, atWorker] = [await scrape(front), await scrape(worker)];
      expect(atFront.value('heygen_jobs_created_total')).toBe(3);
      expect(atWorker.value('heygen_jobs_created_total')).toBe(0);
      expect(atFront.value('heygen_jobs_finished_total', { status: 'cancelled' })).toBe(1);
      expect(atWorker.value('heygen_jobs_finished_total', { status: 'completed' })).toBe(1);
      expect(atWorker.value('heygen_jobs_finished_total', { status: 'failed' })).toBe(1);
      expect(atFront.value('heygen_jobs_finished_total')).toBe(1);
      expect(atWorker.value('heygen_jobs_running')).toBe(0);
      expect(atFront.value('heygen_open_streams')).toBe(1);
      expect(atWorker.value('heygen_open_streams')).toBe(0);
      stream.destroy();
    });

    it('should answer 404 with METRICS=off', async () => {
      const server = await startServer({ METRICS: 'off' });

      const res = await fetch(`${server.url}/metrics`);

      expect(res.status).toBe(404);
    });

    it('should show the webhook attempts in flight and the deliveries held until due (review of 2026-12-01)', async () => {
      const server = await startServer({
        JOB_TIME: '50',
        WEBHOOK_ALLOW_PRIVATE: 'true',
        WEBHOOK_RETRY_SCHEDULE: '0,60000',
        WEBHOOK_TIMEOUT_MS: '5000',
      });
      const client = new JobsClient(server.url);
      let answer: (() => void) | undefined;
      // The receiver holds its first answer until told, then fails it: a retry is due in 60 s.
      const receiver = await startReceiver((_req, res) => {
        answer = () => {
          res.statusCode = 500;
          res.end();
        };
      });
      await client.createOk({ webhook: receiver.url });
      await vi.waitFor(async () =>
        expect((await scrape(server)).value('heygen_webhook_attempts_in_flight')).toBe(1),
      );
      expect((await scrape(server)).value('heygen_webhook_deliveries_queued')).toBe(0);
      answer!();
      await vi.waitFor(async () => {
        const after = await scrape(server);
        expect(after.value('heygen_webhook_attempts_in_flight')).toBe(0);
        expect(after.value('heygen_webhook_deliveries_queued')).toBe(1);
      });
    });
  });

  describe('GET /metrics: jobs evicted', () => {
    // A Redis of its own: MAX_RETAINED_JOBS counts every finished job the deployment keeps.
    const own = useTestRedis();

    it.each(['memory', 'redis'])(
      'should count the finished jobs forgotten early, by the limit that made room (%s driver)',
      async (driver) => {
        const server = await startServer({
          ...(driver === 'redis' && { JOBS_DRIVER: 'redis', REDIS_URL: own.url }),
          MAX_JOBS_PER_CLIENT: '2',
          MAX_ACTIVE_JOBS_PER_CLIENT: '2',
          MAX_ACTIVE_JOBS: '2',
          MAX_RETAINED_JOBS: '3',
        });
        const finish = async (client: JobsClient) => {
          const { id } = await client.createOk({ duration: 0 });
          await client.waitFor(id, (job) => job.status === 'completed');
        };
        const one = new JobsClient(server.url);
        await finish(one);
        await finish(one);
        // The client keeps two: its oldest goes.
        await finish(one);
        await finish(new JobsClient(server.url));
        // Three kept in all: the oldest of any client goes.
        await finish(new JobsClient(server.url));

        const { value } = await scrape(server);
        expect(value('heygen_jobs_created_total')).toBe(5);
        expect(value('heygen_jobs_evicted_total', { limit: 'jobs_per_client' })).toBe(1);
        expect(value('heygen_jobs_evicted_total', { limit: 'retained_jobs' })).toBe(1);
      },
    );
  });
});
