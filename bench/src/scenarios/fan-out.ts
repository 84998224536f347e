import { createFrameParser } from 'heygen-test-support/sse-frames';
import { connect, type Socket } from 'node:net';
import { agent, pooled, send, warmUp } from '../http.js';
import { startServer, type BenchServer, type StartOptions } from '../server.js';
import { distribution, round, sleep, type Distribution } from '../stats.js';

export interface FanOutOptions {
  streams: number;
  /** heygen-api's HTTP_ADAPTER (issue 10: the fan-out holds on both). @default 'fastify' */
  adapter?: 'fastify' | 'express';
  jobTimeMs: number;
  /** Jobs (one per stream's client) are created evenly over this window. */
  createWindowMs: number;
  profile?: Pick<StartOptions, 'cpuProfDir' | 'cpuProfName'>;
  /**
   * A deployment instead of one server (issue 9): this many instances on the Redis at `redisUrl`,
   * streams spread over them, each job created through another instance than its stream's.
   */
  deployment?: { instances: number; redisUrl: string };
}

export interface FanOutResult {
  streams: number;
  adapter: 'fastify' | 'express';
  /** 1, or the deployment's instance count (redis driver). */
  instances: number;
  /** Job events received. */
  events: number;
  /** Client received − the event's `updatedAt` (the change's time on the server), ms. */
  deliveryMs: Distribution;
  /** The same, for the final (`completed`) events only: client received − `finishedAt`. */
  finalDeliveryMs: Distribution;
  /**
   * How late each job finished: `finishedAt` − `expectedAt`. Delivery is counted from the change's
   * own time, so a server too busy to apply its steps on time shows here, not there.
   */
  finishedLateMs: Distribution;
  /** Revisions never received, over every client; must be 0. */
  lost: number;
  /** Server RSS (all instances together) before the streams, with them idle, and at the end, MiB. */
  rssMiB: { before: number; idle: number; end: number };
  rssPerIdleStreamKiB: number;
  /** How long opening every stream took, and how long creating every job took, ms. */
  openMs: number;
  createMs: number;
  /**
   * `GET /metrics` of the first instance, scraped `METRICS_SCRAPES` times one after another while
   * every stream is open and idle, ms (issue 13: at most 5 ms with 10,000 streams); undefined
   * when the server serves no metrics.
   */
  metricsScrapeMs: Distribution | undefined;
  /**
   * The same scrapes as the server timed them (its own `heygen_http_request_duration_seconds` for
   * `/metrics`): the mean, ms, and the share within 5 ms, %. The client's figures add the loopback
   * and the wait for an event loop busy with heartbeats (and, on a shared machine, other work).
   */
  metricsScrapeServer: { meanMs: number; within5msPercent: number } | undefined;
}

/** One stream of one client, over a raw socket: the least client-side cost per stream. */
interface StreamClient {
  uuid: string;
  socket?: Socket;
  connected: boolean;
  /** Text received before the whole response head arrived. */
  buffer: string;
  /** The event stream's reader, from the end of the response head on. */
  parser?: { feed(text: string): void };
  /** When the chunk being parsed arrived. */
  receivedAt: number;
  headDone: boolean;
  revisions: number;
  lastRevision: number;
  finalRevision: number;
}

const MiB = 1024 * 1024;
/** Scrapes timed per run, after one untimed (the first starts the process metrics). */
const METRICS_SCRAPES = 20;
/** Between scrapes: spread over a second or so, as scrapes are, rather than back to back. */
const METRICS_SCRAPE_GAP_MS = 50;

/**
 * Scenario 2: `streams` event streams, each its own client, opened by a raw socket client in this
 * process (the server is another); then one job per client, created within `createWindowMs`.
 */
export async function runFanOut({
  streams,
  adapter = 'fastify',
  jobTimeMs,
  createWindowMs,
  profile,
  deployment,
}: FanOutOptions): Promise<FanOutResult> {
  // Heartbeats every 5 s (default 15 s), so each run of ~15 s pays for them at least twice.
  const env: Record<string, string> = {
    JOB_TIME: String(jobTimeMs),
    HEARTBEAT_MS: '5000',
    HTTP_ADAPTER: adapter,
    ...(deployment && { JOBS_DRIVER: 'redis', REDIS_URL: deployment.redisUrl }),
  };
  const servers = await Promise.all(
    Array.from({ length: deployment?.instances ?? 1 }, () => startServer({ env, ...profile })),
  );
  const rss = (): number => servers.reduce((sum, server) => sum + server.rss(), 0);
  // The stream of client i goes to instance i mod n, its job through the next one.
  const serverFor = (index: number, offset = 0): BenchServer =>
    servers[(index + offset) % servers.length]!;
  const clients: StreamClient[] = Array.from({ length: streams }, () => ({
    uuid: crypto.randomUUID(),
    connected: false,
    buffer: '',
    receivedAt: 0,
    headDone: false,
    revisions: 0,
    lastRevision: 0,
    finalRevision: 0,
  }));
  const delays: number[] = [];
  const finalDelays: number[] = [];
  const finishedLate: number[] = [];
  try {
    for (const server of servers) await warmUp(server.url);
    // Let the warm-up's jobs end and the heap settle before the baseline.
    await sleep(1500);
    const before = rss();

    const openStart = Date.now();
    let connectedCount = 0;
    let allConnected: () => void = () => {};
    const connectedAll = new Promise<void>((resolve) => (allConnected = resolve));
    const onEvent = (client: StreamClient, event: string, data: string, now: number): void => {
      if (event === 'connected') {
        client.connected = true;
        if (++connectedCount === streams) allConnected();
        return;
      }
      if (event !== 'job') return;
      const job = JSON.parse(data) as {
        revision: number;
        updatedAt: string;
        finishedAt?: string;
        expectedAt: string;
      };
      delays.push(now - Date.parse(job.updatedAt));
      if (job.revision > client.lastRevision) {
        client.revisions++;
        client.lastRevision = job.revision;
      }
      if (job.finishedAt !== undefined) {
        finalDelays.push(now - Date.parse(job.finishedAt));
        finishedLate.push(Date.parse(job.finishedAt) - Date.parse(job.expectedAt));
        client.finalRevision = job.revision;
      }
    };
    // At most 256 streams opening at once, each until its `connected` event: more would overflow
    // the server's accept backlog, and dropped SYNs are retried only a second later.
    await pooled(streams, 256, (index) => {
      const { hostname, port } = new URL(serverFor(index).url);
      return openStream(clients[index]!, hostname, port, onEvent);
    });
    await Promise.race([connectedAll, sleep(30_000)]);
    if (connectedCount < streams)
      throw new Error(`only ${connectedCount}/${streams} streams opened`);
    const openMs = Date.now() - openStart;
    await sleep(1000);
    const idle = rss();
    const metricsScrapeMs = await timeScrapes(servers[0]!.url);
    const metricsScrapeServer = metricsScrapeMs && (await serverScrapeTimes(servers[0]!.url));

    const createStart = Date.now();
    const perTick = Math.max(1, Math.ceil(streams / (createWindowMs / 10)));
    const creates: Promise<unknown>[] = [];
    for (let index = 0; index < streams; index += perTick) {
      clients.slice(index, index + perTick).forEach((client, i) => {
        const through = serverFor(index + i, servers.length > 1 ? 1 : 0);
        creates.push(send(`${through.url}/create?uuid=${client.uuid}`, 'POST'));
      });
      await sleep(createStart + ((index + perTick) / streams) * createWindowMs - Date.now());
    }
    await Promise.all(creates);
    const createMs = Date.now() - createStart;

    const deadline = Date.now() + jobTimeMs + 15_000;
    while (Date.now() < deadline && clients.some((client) => client.finalRevision === 0)) {
      await sleep(100);
    }
    await sleep(200);
    const end = rss();
    const lost = clients.reduce(
      (sum, client) =>
        // A client that never saw its final event lost at least that one.
        sum + (client.finalRevision === 0 ? 1 : client.finalRevision - client.revisions),
      0,
    );
    return {
      streams,
      adapter,
      instances: servers.length,
      events: delays.length,
      deliveryMs: distribution(delays),
      finalDeliveryMs: distribution(finalDelays),
      finishedLateMs: distribution(finishedLate),
      lost,
      rssMiB: { before: round(before / MiB), idle: round(idle / MiB), end: round(end / MiB) },
      rssPerIdleStreamKiB: round((idle - before) / streams / 1024),
      openMs,
      createMs,
      metricsScrapeMs,
      metricsScrapeServer,
    };
  } finally {
    for (const client of clients) client.socket?.destroy();
    agent.destroy();
    await Promise.all(servers.map((server) => server.stop()));
  }
}

/** Times `GET /metrics` (request to last byte, as a Prometheus scrape sees it), one at a time. */
async function timeScrapes(base: string): Promise<Distribution | undefined> {
  if ((await send(`${base}/metrics`)).status !== 200) return undefined;
  const times: number[] = [];
  for (let i = 0; i < METRICS_SCRAPES; i++) {
    const start = performance.now();
    await send(`${base}/metrics`);
    times.push(round(performance.now() - start, 2));
    await sleep(METRICS_SCRAPE_GAP_MS);
  }
  return distribution(times);
}

/** What the server's own histogram says of its `GET /metrics` answers (see FanOutResult). */
async function serverScrapeTimes(
  base: string,
): Promise<{ meanMs: number; within5msPercent: number }> {
  const { body } = await send(`${base}/metrics`);
  const sample = (metric: string, le?: string): number => {
    const line = body
      .split('\n')
      .find(
        (text) =>
          text.startsWith(`${metric}{`) &&
          text.includes('route="/metrics",method="GET",status_code="200"') &&
          (le === undefined || text.includes(`le="${le}"`)),
      );
    return Number(line?.slice(line.lastIndexOf(' ') + 1) ?? NaN);
  };
  const name = 'heygen_http_request_duration_seconds';
  const count = sample(`${name}_count`);
  return {
    meanMs: round((sample(`${name}_sum`) / count) * 1000, 2),
    within5msPercent: round((sample(`${name}_bucket`, '0.005') / count) * 100),
  };
}

/** Opens one stream with a hand-written request; resolves once its `connected` event arrived. */
function openStream(
  client: StreamClient,
  host: string,
  port: string,
  onEvent: (client: StreamClient, event: string, data: string, now: number) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port: Number(port) }, () => {
      socket.write(
        `GET /status?uuid=${client.uuid} HTTP/1.1\r\nHost: ${host}:${port}\r\nAccept: text/event-stream\r\n\r\n`,
      );
    });
    client.socket = socket;
    socket.setEncoding('utf8');
    socket.on('error', reject);
    socket.on('data', (chunk: string) => {
      const now = Date.now();
      client.buffer += chunk;
      if (!client.headDone) {
        const end = client.buffer.indexOf('\r\n\r\n');
        if (end < 0) return;
        if (!client.buffer.startsWith('HTTP/1.1 200')) {
          reject(new Error(`stream refused: ${client.buffer.slice(0, 200)}`));
          return;
        }
        client.headDone = true;
        client.buffer = client.buffer.slice(end + 4);
      }
      // The server writes each frame as one HTTP chunk: the chunk-size lines between frames reach
      // the parser as unknown fields, which it skips.
      client.parser ??= createFrameParser(({ event, data }) => {
        if (event === undefined || data === undefined) return;
        onEvent(client, event, data, client.receivedAt);
        if (event === 'connected') resolve();
      });
      client.receivedAt = now;
      client.parser.feed(client.buffer);
      client.buffer = '';
    });
  });
}
