import { createFrameParser } from 'heygen-test-support/sse-frames';
import type { Job } from 'heygen-test-support/wire';
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { warmUp, agent } from '../http.js';
import { openFds, openFilesLimit } from '../proc.js';
import { startServer, type BenchServer } from '../server.js';
import { distribution, round, sleep, type Distribution } from '../stats.js';
import type { AttackerMessage, AttackOrder, ServerClose } from '../slowloris-attacker.js';

export interface SlowlorisOptions {
  connections: number;
  jobTimeMs: number;
  /** Measured client rounds on the idle server, one after another. */
  idleRounds: number;
  /** How long the client is measured, round after round, while the connections are held, s. */
  attackS: number;
  /** The server's HEADERS_TIMEOUT_MS; its default (10 s) when absent. */
  headersTimeoutMs?: number;
}

/** A normal client's rounds: create a job, stream it to its final state. */
export interface ClientRounds {
  rounds: number;
  /** Rounds that did not see their job's final event within the job's time + 30 s. */
  failed: number;
  /** Why they failed: the first error of each, counted. */
  errors: Record<string, number>;
  /** POST /create on a new connection, request to answer, ms. */
  createMs: Distribution;
  /** The stream's request to its `connected` event, ms. */
  connectedMs: Distribution;
  /** The create's request to the final event, ms (includes the job's own time). */
  finalMs: Distribution;
  /** Final event received − the job's `finishedAt`, ms. */
  finalLagMs: Distribution;
}

export interface SlowlorisResult {
  connections: number;
  byteEveryMs: [number, number];
  headersTimeoutMs: number;
  jobTimeMs: number;
  /** Child processes holding the connections (each below the open-files limit). */
  attackers: number;
  /** Soft open-files limits of the bench and of the server (which inherits the bench's). */
  fdLimit: { bench: number; server: number };
  /** How long opening every connection took, ms. */
  openMs: number;
  /** The server's open fds before the attack, and once every connection was held. */
  serverFds: { idle: number; attacked: number };
  attackS: number;
  idle: ClientRounds;
  attacked: ClientRounds;
  /** Connections opened in all (each one the server closed was replaced at once). */
  opened: number;
  connectErrors: number;
  closedByServer: number;
  /** From a connection's connect to the server's close, ms. */
  closeAfterMs: Distribution;
  /** What each closed connection got: a status code (408), a socket error, or none. */
  answers: Record<string, number>;
  /** Connections closed by the server in each second since the attack began. */
  closedPerSecond: number[];
}

const BYTE_EVERY_MS: [number, number] = [1000, 2000];
/** Compiled by `tsc -p bench/tsconfig.build.json`, from src (the smoke test) as from dist. */
const ATTACKER_ENTRY = fileURLToPath(new URL('../../dist/slowloris-attacker.js', import.meta.url));
/** Kept free in each attacker for Node's own descriptors (stdio, IPC, epoll, the loop). */
const FD_RESERVE = 64;

/**
 * Scenario 10 (issue 13): `connections` slowloris connections, each sending its request head a
 * byte every 1–2 s and never finishing it, replaced as soon as the server closes one; meanwhile a
 * normal client creates a job and streams it to its final state, round after round, against the
 * same rounds on the idle server first.
 */
export async function runSlowloris(options: SlowlorisOptions): Promise<SlowlorisResult> {
  const { connections, jobTimeMs, headersTimeoutMs } = options;
  const server = await startServer({
    env: {
      JOB_TIME: String(jobTimeMs),
      ...(headersTimeoutMs !== undefined && { HEADERS_TIMEOUT_MS: String(headersTimeoutMs) }),
    },
  });
  const attackers: ChildProcess[] = [];
  try {
    await warmUp(server.url);
    agent.destroy();
    await sleep(500);
    const idleFds = openFds(server.pid);
    const idle = await measureRounds(server, jobTimeMs, { rounds: options.idleRounds });

    // Each attacker inherits the bench's limit: as many processes as it takes to stay under it.
    const benchLimit = openFilesLimit('self');
    const perAttacker = Math.max(1, Math.min(connections, benchLimit - FD_RESERVE));
    const count = Math.ceil(connections / perAttacker);
    const shares = Array.from({ length: count }, (_, i) => Math.floor((connections + i) / count));
    const attackStart = Date.now();
    const held = shares.map((share) => {
      const child = fork(ATTACKER_ENTRY, [], { execArgv: [], stdio: 'inherit' });
      attackers.push(child);
      const order: AttackOrder = {
        host: server.host,
        port: server.port,
        connections: share,
        byteEveryMs: BYTE_EVERY_MS,
      };
      child.send(order);
      return nextMessage(child, 'held');
    });
    await Promise.all(held);
    const openMs = Date.now() - attackStart;
    const attackedFds = openFds(server.pid);
    const attacked = await measureRounds(server, jobTimeMs, {
      until: Date.now() + options.attackS * 1000,
    });

    const reports = attackers.map((child) => {
      const report = nextMessage(child, 'report');
      child.send({ type: 'stop' });
      return report;
    });
    const done = await Promise.all(reports);
    const closes: ServerClose[] = done.flatMap((r) => r.closes);
    const answers: Record<string, number> = {};
    for (const close of closes) answers[close.answer] = (answers[close.answer] ?? 0) + 1;
    const closedPerSecond: number[] = [];
    for (const close of closes) {
      const second = Math.floor((close.closedAt - attackStart) / 1000);
      for (let s = closedPerSecond.length; s <= second; s++) closedPerSecond.push(0);
      closedPerSecond[second]!++;
    }
    return {
      connections,
      byteEveryMs: BYTE_EVERY_MS,
      headersTimeoutMs: headersTimeoutMs ?? 10_000,
      jobTimeMs,
      attackers: shares.length,
      fdLimit: { bench: benchLimit, server: openFilesLimit(server.pid) },
      openMs,
      serverFds: { idle: idleFds, attacked: attackedFds },
      attackS: options.attackS,
      idle,
      attacked,
      opened: done.reduce((sum, r) => sum + r.opened, 0),
      connectErrors: done.reduce((sum, r) => sum + r.connectErrors, 0),
      closedByServer: closes.length,
      closeAfterMs: distribution(closes.map((c) => c.closedAt - c.openedAt)),
      answers,
      closedPerSecond,
    };
  } finally {
    for (const child of attackers) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await once(child, 'exit');
      }
    }
    await server.stop();
  }
}

function nextMessage<T extends AttackerMessage['type']>(
  child: ChildProcess,
  type: T,
): Promise<Extract<AttackerMessage, { type: T }>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`slowloris attacker: no '${type}' in 60 s`)),
      60_000,
    );
    const onMessage = (message: AttackerMessage): void => {
      if (message.type !== type) return;
      clearTimeout(timer);
      child.off('message', onMessage);
      resolve(message as Extract<AttackerMessage, { type: T }>);
    };
    child.on('message', onMessage);
    child.once('exit', (code) => reject(new Error(`slowloris attacker exited (${code})`)));
  });
}

interface Round {
  createMs: number;
  connectedMs: number;
  finalMs: number;
  finalLagMs: number;
}

/** Rounds one after another: a given number, or until a moment. */
async function measureRounds(
  server: BenchServer,
  jobTimeMs: number,
  { rounds, until }: { rounds?: number; until?: number },
): Promise<ClientRounds> {
  const done: Round[] = [];
  const errors: Record<string, number> = {};
  let failed = 0;
  for (let i = 0; rounds === undefined ? Date.now() < until! : i < rounds; i++) {
    const r = await measureRound(server, jobTimeMs).catch((error: unknown) => {
      const e = error as NodeJS.ErrnoException;
      const reason = e.code ?? e.message;
      errors[reason] = (errors[reason] ?? 0) + 1;
      return undefined;
    });
    if (r) done.push(r);
    else {
      failed++;
      // A client that failed tries again a little later, as a person reloading would.
      await sleep(500);
    }
  }
  const of = (key: keyof Round): Distribution => distribution(done.map((r) => round(r[key])));
  return {
    rounds: done.length + failed,
    failed,
    errors,
    createMs: of('createMs'),
    connectedMs: of('connectedMs'),
    finalMs: of('finalMs'),
    finalLagMs: of('finalLagMs'),
  };
}

/**
 * One new client, as a browser opening the page would be: POST /create on a new connection, then
 * its event stream on another, read until the job's final event.
 */
async function measureRound(server: BenchServer, jobTimeMs: number): Promise<Round> {
  const uuid = crypto.randomUUID();
  const start = performance.now();
  const created = await createJob(`${server.url}/create?uuid=${uuid}`);
  const createMs = performance.now() - start;
  const streamStart = performance.now();
  return new Promise((resolve, reject) => {
    let connectedMs = NaN;
    const req = request(`${server.url}/status?uuid=${uuid}`, {
      agent: false,
      headers: { accept: 'text/event-stream' },
    });
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error('no final event'));
    }, jobTimeMs + 30_000);
    req.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    req.on('response', (res) => {
      if (res.statusCode !== 200) {
        req.destroy();
        clearTimeout(timer);
        reject(new Error(`stream: ${res.statusCode}`));
        return;
      }
      const parser = createFrameParser(({ event, data }) => {
        if (event === 'connected') connectedMs = performance.now() - streamStart;
        if ((event !== 'job' && event !== 'snapshot') || data === undefined) return;
        const parsed = JSON.parse(data) as Job | { jobs: Job[] };
        const job = 'jobs' in parsed ? parsed.jobs.find((j) => j.id === created) : parsed;
        if (job?.id !== created || job.finishedAt === undefined) return;
        clearTimeout(timer);
        resolve({
          createMs,
          connectedMs,
          finalMs: performance.now() - start,
          finalLagMs: Date.now() - Date.parse(job.finishedAt),
        });
        req.destroy();
      });
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => parser.feed(chunk));
      res.on('error', () => {});
    });
    req.end();
  });
}

/** POST /create on a connection of its own; resolves with the job's id. */
function createJob(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent: false, timeout: 30_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () =>
        res.statusCode === 201
          ? resolve((JSON.parse(text) as Job).id)
          : reject(new Error(`create: ${res.statusCode} ${text}`)),
      );
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('create: timeout')));
    req.on('error', reject);
    req.end();
  });
}
