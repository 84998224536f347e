import {
  isFinished,
  openSse,
  startTestServer,
  type Job,
  type RawSseStream,
  type RunningServer,
  type SseFrame,
} from 'heygen-test-support';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { JobsClient } from './support/jobs-client.js';
import { startNginx, type TestNginx } from './support/nginx.js';
import { useTestRedis } from './support/redis-server.js';

/**
 * The deployment of compose.yaml, with real processes: two heygen-api replicas (the built dist) on
 * one redis-server, behind a real nginx running the config the repository ships
 * (docker/nginx/heygen.conf.template), proxy buffering at nginx's default (on). The API's
 * `X-Accel-Buffering: no` turns it off for the stream. A buffered stream reaches the client in
 * 4–8 KiB lumps, long after the events in it happened: these tests fail so when the config both
 * ignores that header (`proxy_ignore_headers X-Accel-Buffering`) and speaks HTTP/1.0 upstream
 * (nginx 1.22 passes an HTTP/1.1 upstream's chunks on as they complete, buffered or not).
 */
const HEARTBEAT_MS = 250;

const redis = useTestRedis();
let replicas: RunningServer[] = [];
let nginx: TestNginx;

beforeAll(async () => {
  const env = {
    JOBS_DRIVER: 'redis',
    REDIS_URL: redis.url,
    HEARTBEAT_MS: String(HEARTBEAT_MS),
    PROGRESS_INTERVAL_MS: '250',
  };
  replicas = await Promise.all([startTestServer(env), startTestServer(env)]);
  nginx = await startNginx({ upstreams: replicas.map(({ host, port }) => `${host}:${port}`) });
}, 30_000);

afterAll(async () => {
  await nginx?.stop();
  await Promise.all(replicas.map((replica) => replica.stop()));
});

/** Opens the stream through nginx; fails, rather than hangs, when no response head comes. */
async function openStream(url: string): Promise<RawSseStream> {
  let timer: NodeJS.Timeout | undefined;
  const stream = await Promise.race([
    openSse(url),
    new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error('no response head through nginx within 5 s: is it buffering?')),
        5000,
      );
    }),
  ]).finally(() => clearTimeout(timer));
  expect(stream.status).toBe(200);
  expect(stream.headers['content-type']).toMatch(/^text\/event-stream/);
  return stream;
}

/** A frame and when it reached the client (ms since the epoch, the clock the server stamps with). */
interface Arrival {
  frame: SseFrame;
  at: number;
}

/** Reads `stream` frame by frame as it comes, noting when each arrived, until it ends. */
function recordArrivals(stream: RawSseStream): Arrival[] {
  const arrivals: Arrival[] = [];
  void (async () => {
    for (;;) {
      const frame = await stream.next(60_000).catch(() => undefined);
      if (!frame) return;
      arrivals.push({ frame, at: Date.now() });
    }
  })();
  return arrivals;
}

/** Waits until `arrivals` hold what `done` looks for; the failure says what came through nginx. */
function waitForArrivals<T>(
  arrivals: Arrival[],
  done: (arrivals: Arrival[]) => T | undefined,
  what: string,
  timeout = 5000,
): Promise<T> {
  return vi.waitFor(
    () => {
      const result = done(arrivals);
      if (result === undefined) {
        const seen = arrivals.map(({ frame }) => frame.event ?? `retry ${frame.retry}`).join(', ');
        throw new Error(`${what} has not come through nginx (received: ${seen || 'nothing'})`);
      }
      return result;
    },
    { timeout, interval: 10 },
  );
}

const jobEvents = (arrivals: Arrival[], id: number): (Arrival & { job: Job })[] =>
  arrivals
    .filter(({ frame }) => frame.event === 'job')
    .map((arrival) => ({ ...arrival, job: JSON.parse(arrival.frame.data!) as Job }))
    .filter(({ job }) => job.id === id);

const heartbeats = (arrivals: Arrival[]): (Arrival & { time: number })[] =>
  arrivals
    .filter(({ frame }) => frame.event === 'heartbeat')
    .map((arrival) => ({
      ...arrival,
      time: Date.parse((JSON.parse(arrival.frame.data!) as { time: string }).time),
    }));

describe('the event stream through nginx with the shipped config', () => {
  it("should pass a job's events on as they happen, not when the job is done", async () => {
    const client = new JobsClient(nginx.url);
    const stream = await openStream(client.url('/status'));
    const arrivals = recordArrivals(stream);
    await waitForArrivals(
      arrivals,
      (all) => all.find(({ frame }) => frame.event === 'snapshot'),
      'the snapshot',
    );

    // Created through nginx on either replica; streamed from whichever holds the stream.
    const created = await client.createOk({ duration: 1500 });
    const events = await waitForArrivals(
      arrivals,
      (all) => {
        const events = jobEvents(all, created.id);
        return events.some(({ job }) => isFinished(job)) ? events : undefined;
      },
      `job ${created.id} completed`,
      10_000,
    );

    expect(events.map(({ job }) => job.revision)).toEqual(
      events.map((_, i) => events[0]!.job.revision + i),
    );
    expect(events.at(-1)!.job.status).toBe('completed');
    const running = events.find(({ job }) => job.status === 'running');
    expect(running, 'a running event').toBeDefined();
    // Buffered, the running event would wait in nginx with the rest, past the job's end.
    expect(
      running!.at,
      `the running event arrived at ${new Date(running!.at).toISOString()}, after the job was due (${created.expectedAt})`,
    ).toBeLessThan(Date.parse(created.expectedAt));
  });

  it('should pass each heartbeat on before the server sends the one after next', async () => {
    const client = new JobsClient(nginx.url);
    const stream = await openStream(client.url('/status'));
    const arrivals = recordArrivals(stream);
    const connected = await waitForArrivals(
      arrivals,
      (all) => all.find(({ frame }) => frame.event === 'connected'),
      'connected',
    );
    expect(JSON.parse(connected.frame.data!)).toMatchObject({ heartbeatMs: HEARTBEAT_MS });

    const beats = await waitForArrivals(
      arrivals,
      (all) => (heartbeats(all).length >= 5 ? heartbeats(all) : undefined),
      'five heartbeats',
    );
    // A client deems a stream dead after about two silent heartbeat intervals (docs/protocol.md):
    // each heartbeat must reach it before the server has sent two more. Buffered, dozens would
    // arrive together, long after they were sent.
    for (let i = 0; i + 2 < beats.length; i++) {
      expect(
        beats[i]!.at,
        `heartbeat ${i} (sent ${new Date(beats[i]!.time).toISOString()}) arrived after heartbeat ${i + 2} was sent`,
      ).toBeLessThan(beats[i + 2]!.time);
    }
  });
});

describe('requests through nginx with the shipped config', () => {
  it("should answer with nginx's request id, so that both logs name the request alike", async () => {
    const client = new JobsClient(nginx.url);

    const created = await client.create();

    expect(created.status).toBe(201);
    // nginx's $request_id: 32 hex digits, set for the replica, which keeps and echoes it.
    expect(created.headers.get('x-request-id')).toMatch(/^[0-9a-f]{32}$/);
  });

  it('should pass on a batch of MAX_BATCH_IDS ids, a 14 KB request line', async () => {
    const client = new JobsClient(nginx.url);
    const { id } = await client.createOk();
    // 13-digit ids, as the server hands out: nginx's default line buffer (8 KiB) answered 414.
    const ids = [id, ...Array.from({ length: 999 }, (_, index) => 1_000_000_000_000 + index)];

    const answer = await client.batch(ids);

    expect(answer.status).toBe(200);
    expect(answer.body.jobs.map((job) => job.id)).toEqual([id]);
    expect(answer.body.missing).toHaveLength(999);
  });

  it('should log no query string: no access_token, no client id (review of 2026-11-30)', async () => {
    const client = new JobsClient(nginx.url);
    const secret = 'an-api-key-in-the-query-1234';

    const answer = await fetch(client.url('/status/1', { access_token: secret }));
    const requestId = answer.headers.get('x-request-id')!;

    await vi.waitFor(() => expect(nginx.accessLog()).toContain(requestId), { timeout: 5000 });
    const line = nginx
      .accessLog()
      .split('\n')
      .find((entry) => entry.includes(requestId))!;
    expect(line).toContain('"GET /status/1 HTTP/1.1"');
    expect(line).not.toContain(secret);
    expect(line).not.toContain(client.clientId);
  });
});
