import { createFrameParser } from 'heygen-test-support/sse-frames';
import { connect, type Socket } from 'node:net';
import { pooled, send, warmUp } from '../http.js';
import { redisInfo, redisInline } from '../redis-inline.js';
import { startServer, type BenchServer } from '../server.js';
import { distribution, round, sleep, type Distribution } from '../stats.js';
import { runFanOut, type FanOutResult } from './fan-out.js';
import {
  runThroughput,
  withRatios,
  type ThroughputResult,
  type ThroughputRounds,
} from './throughput.js';

export interface RedisScaleOptions {
  /** Fan-out over two instances: streams, job length, creation window. */
  fanOut: { streams: number; jobTimeMs: number; createWindowMs: number };
  /** POST /create on the memory and the redis driver, alternated. */
  throughput: ThroughputRounds;
  /** Zero-length jobs whose Redis commands are counted, create → completed, no streams. */
  roundTripJobs: number;
  /**
   * Streams on two instances, one of which is killed; `runnerLockMs` sets RUNNER_LOCK_MS (how
   * soon the killed instance's jobs move on), the default's when absent.
   */
  failover: { streams: number; jobTimeMs: number; runnerLockMs?: number };
}

export interface RedisScaleResult {
  fanOut: FanOutResult;
  throughput: ThroughputResult[];
  /** The redis driver's POST /create rate over the memory driver's, averaged over the rounds. */
  createRedisToMemory: number;
  /** The same for an instance without a worker (RUNNER_CONCURRENCY=0), another running the jobs. */
  createHttpOnlyToMemory: number;
  /** Redis commands per job, create → completed with no stream, the instance's idle rate taken off. */
  commandsPerJob: number;
  failover: {
    streams: number;
    /** Streams the killed instance held. */
    affected: number;
    /** SIGKILL → the stream's `connected` on the living instance (after the `retry:` delay), ms. */
    reconnectMs: Distribution;
    /** SIGKILL → the next job event on that stream, ms. */
    deliveringMs: Distribution;
    /** Revisions a client never saw, over every client; must be 0. */
    lost: number;
    /** Jobs that reached their final state (all of them, including the killed instance's). */
    finished: number;
  };
}

/**
 * Scenario 7 (issue 9): heygen-api as a deployment on the redis driver. Fan-out over two
 * instances; POST /create on redis against memory in turns; Redis commands per job; and the
 * failover of every stream of an instance that is SIGKILLed.
 */
export async function runRedisScale(
  options: RedisScaleOptions,
  redisUrl: string,
): Promise<RedisScaleResult> {
  const fanOut = await runFanOut({
    ...options.fanOut,
    deployment: { instances: 2, redisUrl },
  });

  const runs: ThroughputResult[] = [];
  const { rounds, ...throughput } = options.throughput;
  for (let round = 1; round <= rounds; round += 1) {
    for (const server of [
      'heygen-api/fastify',
      'heygen-api/redis',
      'heygen-api/redis-http-only',
    ] as const) {
      await flushRedis(redisUrl);
      runs.push({
        round,
        ...(await runThroughput({ ...throughput, route: 'POST /create', server, redisUrl })),
      });
    }
  }
  await flushRedis(redisUrl);
  const commandsPerJob = await countCommandsPerJob(options.roundTripJobs, redisUrl);
  await flushRedis(redisUrl);
  const failover = await runFailover(options.failover, redisUrl);
  const rate = (server: string): number =>
    runs.filter((r) => r.server === server).reduce((sum, r) => sum + r.requestsPerS, 0);

  return {
    fanOut,
    throughput: withRatios(runs),
    createRedisToMemory: round(rate('heygen-api/redis') / rate('heygen-api/fastify'), 2),
    createHttpOnlyToMemory: round(
      rate('heygen-api/redis-http-only') / rate('heygen-api/fastify'),
      2,
    ),
    commandsPerJob,
    failover,
  };
}

/**
 * Empties the Redis between phases, whose servers are stopped by then: a stopped instance hands
 * its running jobs back to the queue, and the next phase's instances would run them, in its
 * figures. A flood's backlog once made the idle rate of countCommandsPerJob larger than the jobs'
 * own commands.
 */
async function flushRedis(redisUrl: string): Promise<void> {
  await redisInline(redisUrl, 'FLUSHALL', /^\+OK\r\n/);
}

async function countCommandsPerJob(jobs: number, redisUrl: string): Promise<number> {
  const commands = (): Promise<number> => redisInfo(redisUrl, 'stats', 'total_commands_processed');
  // Short jobs, so that the warm-up's are over before the idle rate is read.
  const env = { JOBS_DRIVER: 'redis', REDIS_URL: redisUrl, JOB_TIME: '100' };
  const server = await startServer({ env });
  try {
    await warmUp(server.url);
    // The warm-up's jobs are done in 100 ms; BullMQ's clean-up after them takes a few seconds.
    await sleep(5000);
    // BullMQ's workers poll and renew on their own: that idle rate is taken off.
    const idleS = 5;
    const idleStart = await commands();
    await sleep(idleS * 1000);
    const idleRate = ((await commands()) - idleStart) / idleS;

    const uuid = crypto.randomUUID();
    const start = await commands();
    const startedAt = Date.now();
    await pooled(jobs, 8, async () => {
      const res = await send(`${server.url}/create?uuid=${uuid}`, 'POST', '{"duration":0}');
      if (res.status !== 201) throw new Error(`create: ${res.status} ${res.body}`);
    });
    await sleep(2000);
    const end = await commands();
    const seconds = (Date.now() - startedAt) / 1000;
    const batch = JSON.parse((await send(`${server.url}/status?uuid=${uuid}`)).body) as {
      jobs: { status: string }[];
    };
    const unfinished = batch.jobs.filter((job) => job.status !== 'completed').length;
    if (unfinished > 0) throw new Error(`${unfinished} of ${jobs} jobs did not complete`);
    return round((end - start - idleRate * seconds) / jobs);
  } finally {
    await server.stop();
  }
}

/** One client's stream, reconnected with Last-Event-ID like an EventSource. */
interface FailoverClient {
  uuid: string;
  home: number;
  socket?: Socket;
  lastEventId?: string;
  lastRevision: number;
  revisions: number;
  finalRevision: number;
  /** Set once its instance is killed: when it reconnected and when it next received a job event. */
  reconnectedAt?: number;
  deliveringAt?: number;
}

async function runFailover(
  { streams, jobTimeMs, runnerLockMs }: RedisScaleOptions['failover'],
  redisUrl: string,
): Promise<RedisScaleResult['failover']> {
  const env = {
    JOBS_DRIVER: 'redis',
    REDIS_URL: redisUrl,
    HEARTBEAT_MS: '5000',
    ...(runnerLockMs !== undefined && { RUNNER_LOCK_MS: String(runnerLockMs) }),
  };
  const servers = await Promise.all([startServer({ env }), startServer({ env })]);
  const clients: FailoverClient[] = Array.from({ length: streams }, (_, index) => ({
    uuid: crypto.randomUUID(),
    home: index % 2,
    lastRevision: 0,
    revisions: 0,
    finalRevision: 0,
  }));
  let killedAt: number | undefined;
  const living = servers[1];
  try {
    await pooled(streams, 128, (index) => {
      const client = clients[index]!;
      return openFailoverStream(client, servers[client.home]!, () => killedAt, living);
    });
    // Each job through the other instance, so both run some of the killed one's clients' jobs.
    await pooled(streams, 32, async (index) => {
      const client = clients[index]!;
      const through = servers[1 - client.home]!;
      const body = JSON.stringify({ duration: jobTimeMs });
      await send(`${through.url}/create?uuid=${client.uuid}`, 'POST', body);
    });
    await sleep(1500);
    killedAt = Date.now();
    process.kill(servers[0].pid, 'SIGKILL');

    // Until every job has finished; the killed instance's wait for BullMQ's lock to expire.
    const deadline = Date.now() + jobTimeMs + 60_000;
    while (Date.now() < deadline && clients.some((client) => client.finalRevision === 0)) {
      await sleep(200);
    }
    const affected = clients.filter((client) => client.home === 0);
    const since = (at: number | undefined): number => (at ?? Infinity) - killedAt!;
    return {
      streams,
      affected: affected.length,
      reconnectMs: distribution(affected.map((client) => since(client.reconnectedAt))),
      deliveringMs: distribution(affected.map((client) => since(client.deliveringAt))),
      lost: clients.reduce(
        (sum, client) =>
          sum + (client.finalRevision === 0 ? 1 : client.finalRevision - client.revisions),
        0,
      ),
      finished: clients.filter((client) => client.finalRevision > 0).length,
    };
  } finally {
    for (const client of clients) client.socket?.destroy();
    await Promise.all(servers.map((server) => server.stop()));
  }
}

/**
 * Opens the client's stream on `server`; when it closes after the kill, reopens it on `living`
 * after the `retry:` delay the server sent, with the last event id. Resolves once first connected.
 */
function openFailoverStream(
  client: FailoverClient,
  server: BenchServer,
  killedAt: () => number | undefined,
  living: BenchServer,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const { hostname, port } = new URL(server.url);
    let retryMs = 1000;
    let head = '';
    let parser: { feed(text: string): void } | undefined;
    const socket = connect({ host: hostname, port: Number(port) }, () => {
      const resume =
        client.lastEventId === undefined ? '' : `Last-Event-ID: ${client.lastEventId}\r\n`;
      socket.write(
        `GET /status?uuid=${client.uuid} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nAccept: text/event-stream\r\n${resume}\r\n`,
      );
    });
    client.socket = socket;
    socket.setEncoding('utf8');
    socket.on('error', (error) => {
      if (killedAt() === undefined) reject(error);
    });
    socket.on('close', () => {
      if (killedAt() === undefined || server === living) return;
      setTimeout(() => void openFailoverStream(client, living, killedAt, living), retryMs);
    });
    socket.on('data', (chunk: string) => {
      if (!parser) {
        head += chunk;
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        chunk = head.slice(end + 4);
        parser = createFrameParser(({ id, event, data, retry }) => {
          if (retry !== undefined) retryMs = retry;
          if (id !== undefined) client.lastEventId = id;
          const now = Date.now();
          if (event === 'connected') {
            if (killedAt() !== undefined) client.reconnectedAt ??= now;
            resolve();
            return;
          }
          if (event === 'snapshot' && data !== undefined) {
            const { jobs } = JSON.parse(data) as { jobs: { revision: number }[] };
            for (const job of jobs) onJob(client, job, now, killedAt());
          }
          if (event === 'job' && data !== undefined) {
            onJob(client, JSON.parse(data) as { revision: number }, now, killedAt());
          }
        });
      }
      parser.feed(chunk);
    });
  });
}

function onJob(
  client: FailoverClient,
  job: { revision: number; finishedAt?: string },
  now: number,
  killedAt: number | undefined,
): void {
  if (killedAt !== undefined && client.reconnectedAt !== undefined) client.deliveringAt ??= now;
  if (job.revision > client.lastRevision) {
    // A snapshot may skip revisions it does not carry; only job events count one by one.
    client.revisions += 1;
    client.lastRevision = job.revision;
  }
  if (job.finishedAt !== undefined) client.finalRevision = job.revision;
}
