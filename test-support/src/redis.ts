import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { freePort } from './free-port.js';

/** Debian's redis-server (scripts/install-test-deps.sh installs it); REDIS_SERVER may name another. */
const REDIS_SERVER = process.env.REDIS_SERVER ?? 'redis-server';

export interface TestRedisOptions {
  /**
   * Keep an append-only file in its dir (`appendonly yes`), so that a restart after a kill finds
   * every write it acknowledged, as a production Redis should. @default false: nothing survives
   */
  persist?: boolean;
}

/**
 * A real redis-server of a test's or the bench's own, on a free loopback port, in a temp dir: what
 * the redis driver's tests and scenario 7 of the bench run on.
 */
export interface TestRedis {
  /** `redis://127.0.0.1:<port>`: what REDIS_URL is set to. */
  readonly url: string;
  readonly port: number;
  /** Kills it (SIGKILL, as a crash) and keeps its dir and port for {@link restart}; idempotent. */
  kill(): Promise<void>;
  /**
   * Starts it again (after {@link kill}, or killing it first) on the same port, from what it
   * persisted: everything with `persist`, nothing without, nothing either with `empty` (a wiped
   * Redis).
   */
  restart(options?: { empty?: boolean }): Promise<void>;
  /** Kills it for good and removes its dir; idempotent. */
  stop(): Promise<void>;
}

/** A started redis-server, or why it would not start. */
type Launch = { child: ChildProcess } | { lines: string[] };

/** Runs redis-server on `port` in `dir` and waits until it accepts connections (a few ms). */
async function launch(port: number, dir: string, persist: boolean): Promise<Launch> {
  const persistence = persist ? ['--appendonly', 'yes'] : ['--appendonly', 'no'];
  const child = spawn(
    REDIS_SERVER,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', ...persistence],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const lines: string[] = [];
  const ready = await new Promise<boolean>((resolve) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      lines.push(line);
      if (/Ready to accept connections/.test(line)) resolve(true);
    });
    child.once('exit', () => resolve(false));
    child.once('error', (error) => {
      lines.push(error.message);
      resolve(false);
    });
  });
  return ready ? { child } : { lines };
}

const portTaken = (lines: string[]): boolean =>
  lines.some((line) => /Address already in use/.test(line));

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

/** Starts redis-server and waits until it accepts connections. */
export async function startRedis({ persist = false }: TestRedisOptions = {}): Promise<TestRedis> {
  const dir = await mkdtemp(join(tmpdir(), 'heygen-redis-'));
  const fail = async (lines: string[]): Promise<never> => {
    await rm(dir, { recursive: true, force: true });
    throw new Error(
      `${REDIS_SERVER} would not start (run scripts/install-test-deps.sh): ${lines.slice(-3).join(' | ')}`,
    );
  };
  let port = 0;
  let child: ChildProcess | undefined;
  for (let attempt = 0; !child; attempt++) {
    port = await freePort();
    const started = await launch(port, dir, persist);
    if ('child' in started) child = started.child;
    // Another process took the port between the probe and the start: try another.
    else if (attempt >= 3 || !portTaken(started.lines)) await fail(started.lines);
  }
  let current = child;

  let stopped: Promise<void> | undefined;
  const redis: TestRedis = {
    url: `redis://127.0.0.1:${port}`,
    port,
    kill: () => kill(current),
    async restart({ empty = false } = {}) {
      if (stopped) throw new Error('restart(): this Redis was stopped');
      await kill(current);
      if (empty) {
        await rm(dir, { recursive: true, force: true });
        await mkdir(dir);
      }
      const started = await launch(port, dir, persist);
      if (!('child' in started)) {
        throw new Error(
          `${REDIS_SERVER} would not restart: ${started.lines.slice(-3).join(' | ')}`,
        );
      }
      current = started.child;
    },
    stop: () =>
      (stopped ??= (async () => {
        await kill(current);
        await rm(dir, { recursive: true, force: true });
      })()),
  };
  return redis;
}
