import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { accessSync, constants, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { type Cleanup } from './cleanup.js';

/** redis-server cannot be found or started; the message says what to do, on one line. */
export class RedisStartError extends Error {
  override name = 'RedisStartError';
}

/** A redis-server of the run's own: loopback, a free port, a temp dir, nothing persisted. */
export interface RunningRedis {
  /** `redis://127.0.0.1:<port>`: the instances' REDIS_URL. */
  url: string;
  port: number;
  pid: number;
  /** Its working dir, removed by `stop`. */
  dir: string;
  /** Stops it and removes its dir; safe to call more than once. */
  stop(): Promise<void>;
}

const isExecutable = (path: string): boolean => {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
};

/**
 * The redis-server binary: REDIS_SERVER (a path, or a name looked up on PATH), else `redis-server`
 * on PATH. Checked before the run starts anything, so a missing one costs one line and no cleanup.
 */
export function findRedisServer(
  env: Record<string, string | undefined>,
  instances: number,
): string {
  const named = env.REDIS_SERVER?.trim() || undefined;
  const wanted = named ?? 'redis-server';
  const needs = `--instances ${instances} needs redis-server`;
  const hint =
    'install redis-server (e.g. `apt-get install redis-server`) or run with --instances 1';
  if (wanted.includes('/')) {
    const path = isAbsolute(wanted) ? wanted : resolve(wanted);
    if (isExecutable(path)) return path;
    throw new RedisStartError(
      `${needs}, and REDIS_SERVER=${wanted} is not an executable file: ${hint}`,
    );
  }
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir !== '' && isExecutable(join(dir, wanted))) return join(dir, wanted);
  }
  throw new RedisStartError(
    named === undefined
      ? `${needs}, which is not on PATH: ${hint}`
      : `${needs}, and REDIS_SERVER=${wanted} is not on PATH: ${hint}`,
  );
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise((done) => server.close(done));
  return port;
}

/** A started redis-server, or its last lines when it would not start. */
type Launch = { child: ChildProcess } | { lines: string[] };

const READY_TIMEOUT_MS = 10_000;

/**
 * Runs redis-server on `port` in `dir` and waits until it accepts connections (a few ms);
 * `spawned` hears of the process at once, so that a stop during the wait can kill it.
 */
async function launch(
  binary: string,
  port: number,
  dir: string,
  spawned: (child: ChildProcess) => void,
): Promise<Launch> {
  const child = spawn(
    binary,
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--save',
      '',
      '--appendonly',
      'no',
    ],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  spawned(child);
  const lines: string[] = [];
  let timer: NodeJS.Timeout | undefined;
  const ready = await new Promise<boolean>((settle) => {
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => {
        lines.push(line);
        if (lines.length > 20) lines.shift();
        if (/Ready to accept connections/.test(line)) settle(true);
      });
    }
    child.once('exit', (code, signal) => {
      lines.push(`it exited with ${code === null ? signal : `code ${code}`}`);
      settle(false);
    });
    child.once('error', (error) => {
      lines.push(error.message);
      settle(false);
    });
    timer = setTimeout(() => {
      lines.push(`not ready within ${READY_TIMEOUT_MS} ms`);
      settle(false);
    }, READY_TIMEOUT_MS);
  });
  clearTimeout(timer);
  if (ready) return { child };
  await kill(child);
  return { lines };
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

/**
 * Starts redis-server on a free loopback port in a new temp dir, without persistence
 * (`--save '' --appendonly no`). Its stop (kill, then remove the dir) is handed to `cleanup`
 * before it is started, so that every exit path, Ctrl-C included, takes it down; once `signal`
 * is aborted (a stop signal), it starts no redis-server any more.
 */
export async function startRedis(
  binary: string,
  cleanup: Cleanup,
  signal?: AbortSignal,
): Promise<RunningRedis> {
  const dir = await mkdtemp(join(tmpdir(), 'heygen-cli-redis-'));
  let child: ChildProcess | undefined;
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      if (child) await kill(child);
      await rm(dir, { recursive: true, force: true });
    })());
  cleanup.defer(stop);

  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    if (signal?.aborted) {
      await stop();
      signal.throwIfAborted();
    }
    const started = await launch(binary, port, dir, (spawned) => (child = spawned));
    if ('child' in started) {
      return { url: `redis://127.0.0.1:${port}`, port, pid: started.child.pid!, dir, stop };
    }
    child = undefined;
    // Another process took the port between the probe and the start: try another.
    const taken = started.lines.some((line) => /Address already in use/.test(line));
    if (!taken || attempt >= 3) {
      await stop();
      const detail = started.lines.slice(-3).join(' | ') || 'no output';
      throw new RedisStartError(`redis-server (${binary}) would not start: ${detail}`);
    }
  }
}
