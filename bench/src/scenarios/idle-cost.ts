import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { agent, pooled, send, warmUp } from '../http.js';
import { startServer, type BenchServer } from '../server.js';
import { round, sleep } from '../stats.js';

export interface IdleCostOptions {
  /** Running jobs on the loaded server (ten minutes each), spread over clients of 1000. */
  jobs: number;
  /** How long CPU is measured on both servers at once, s. */
  measureS: number;
  /** Sockets that each pipeline two streams and then close. */
  pipelinedSockets: number;
  /** How long one client creates zero-length jobs as fast as it can, s. */
  jobFloodS: number;
  /** Streams that never read, opened on the flooded client (its opening burst is its jobs). */
  stuckStreams: number;
  /** How long to wait for the server to settle once the clients are gone, s. */
  settleS: number;
}

export interface IdleCostResult {
  jobs: number;
  measureS: number;
  /** Share of one core each server used over the same seconds, %. */
  cpuPercent: { idle: number; running: number };
  /** RSS of the idle server before the floods, and once their clients were gone, MiB. */
  rssMiB: { idle: number; floods: number; after: number };
  /** after / idle − 1, %: the bound is 10. */
  rssGrowthPercent: number;
  /** What the floods did: jobs created, pipelined streams sent, streams left unread. */
  floods: { jobsCreated: number; pipelinedStreams: number; stuckStreams: number };
  /** Streams the server still held once the clients were gone (health); must be 0. */
  streamsLeft: number;
}

const MiB = 1024 * 1024;
/** USER_HZ: what /proc/<pid>/stat counts CPU time in, 100 on every Linux the bench runs on. */
const TICKS_PER_S = 100;
const PER_CLIENT = 1000;

/** User + system CPU time of a whole process (every thread), s, from /proc/<pid>/stat. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_S;
}

/**
 * Scenario 5 (issue 18): the idle cost of running jobs, and memory after hostile floods.
 * Two servers side by side: one idle, one running `jobs` ten-minute jobs with no client; their CPU
 * is read over the same seconds. Then the idle one takes three floods (pipelined streams on
 * connections that close, a client making zero-length jobs as fast as it can, streams that never
 * read) and its RSS is read again once every client is gone.
 */
export async function runIdleCost(options: IdleCostOptions): Promise<IdleCostResult> {
  const quiet = { HEARTBEAT_MS: '5000' };
  // The flooded server forgets finished jobs within the settling time: what stays after that is
  // what the floods leaked, not what retention keeps on purpose.
  const idle = await startServer({
    env: { ...quiet, RETENTION_MS: String(Math.floor((options.settleS * 1000) / 2)) },
  });
  const loaded = await startServer({ env: quiet });
  const sockets: Socket[] = [];
  try {
    await warmUp(idle.url);
    await warmUp(loaded.url);
    await createRunningJobs(loaded.url, options.jobs);
    await sleep(1000);

    const start = [cpuSeconds(idle.pid), cpuSeconds(loaded.pid)];
    await sleep(options.measureS * 1000);
    const cpuPercent = {
      idle: round(((cpuSeconds(idle.pid) - start[0]!) / options.measureS) * 100, 2),
      running: round(((cpuSeconds(loaded.pid) - start[1]!) / options.measureS) * 100, 2),
    };
    await loaded.stop();

    const rssIdle = idle.rss();
    const floods = await flood(idle, options, sockets);
    const rssFloods = idle.rss();
    for (const socket of sockets) socket.destroy();
    agent.destroy();
    await sleep(options.settleS * 1000);
    const rssAfter = idle.rss();
    const health = JSON.parse((await send(`${idle.url}/health`)).body) as {
      info?: { jobs?: { openStreams?: number } };
    };
    return {
      jobs: options.jobs,
      measureS: options.measureS,
      cpuPercent,
      rssMiB: {
        idle: round(rssIdle / MiB),
        floods: round(rssFloods / MiB),
        after: round(rssAfter / MiB),
      },
      rssGrowthPercent: round((rssAfter / rssIdle - 1) * 100),
      floods,
      streamsLeft: health.info?.jobs?.openStreams ?? -1,
    };
  } finally {
    for (const socket of sockets) socket.destroy();
    agent.destroy();
    await Promise.all([idle.stop(), loaded.stop()]);
  }
}

async function createRunningJobs(base: string, jobs: number): Promise<void> {
  const uuids = Array.from({ length: Math.ceil(jobs / PER_CLIENT) }, () => crypto.randomUUID());
  await pooled(jobs, 32, async (i) => {
    const res = await send(
      `${base}/create?uuid=${uuids[Math.floor(i / PER_CLIENT)]}`,
      'POST',
      '{"duration":600000}',
    );
    if (res.status !== 201) throw new Error(`create: ${res.status} ${res.body}`);
  });
}

async function flood(
  server: BenchServer,
  options: IdleCostOptions,
  sockets: Socket[],
): Promise<IdleCostResult['floods']> {
  const { hostname, port } = new URL(server.url);
  const victim = crypto.randomUUID();
  const streamRequest = (uuid: string): string =>
    `GET /status?uuid=${uuid} HTTP/1.1\r\nHost: ${hostname}\r\nAccept: text/event-stream\r\n\r\n`;

  // 1. Two streams pipelined on one connection, which then closes (finding 1).
  await pooled(options.pipelinedSockets, 64, async () => {
    const socket = connect({ host: hostname, port: Number(port) });
    await new Promise<void>((resolve, reject) => {
      socket.on('error', reject);
      socket.on('data', (chunk: Buffer) => {
        if (chunk.includes('event: connected')) resolve();
      });
      socket.write(streamRequest(crypto.randomUUID()) + streamRequest(victim));
    });
    socket.destroy();
  });

  // 2. One client making zero-length jobs as fast as it can (finding 2).
  const flooder = crypto.randomUUID();
  let jobsCreated = 0;
  const until = Date.now() + options.jobFloodS * 1000;
  await pooled(16, 16, async () => {
    while (Date.now() < until) {
      const res = await send(`${server.url}/create?uuid=${flooder}`, 'POST', '{"duration":0}');
      if (res.status === 201) jobsCreated++;
    }
  });

  // 3. Streams of that client that never read: its opening burst is every job it keeps.
  await pooled(options.stuckStreams, options.stuckStreams, async () => {
    const socket = connect({ host: hostname, port: Number(port) });
    sockets.push(socket);
    await new Promise<void>((resolve, reject) => {
      socket.on('error', reject);
      socket.once('data', () => {
        socket.pause();
        resolve();
      });
      socket.write(streamRequest(flooder));
    });
  });
  await sleep(1000);
  return {
    jobsCreated,
    pipelinedStreams: options.pipelinedSockets * 2,
    stuckStreams: options.stuckStreams,
  };
}
