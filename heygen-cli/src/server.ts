import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { stripVTControlCharacters } from 'node:util';
import treeKill from 'tree-kill';
import { type Logger } from './logger.js';

/** The line heygen-api prints once it accepts requests (heygen-api/src/main.ts). */
const READY_LINE = /heygen-api listening on (http:\/\/\S+)/;

/** The server could not be started; the message says why, in words a user can act on. */
export class ServerStartError extends Error {
  override name = 'ServerStartError';
}

export interface RunningServer {
  url: string;
  pid: number;
  /**
   * Stops the server and everything it spawned (SIGTERM, then SIGKILL after 5 s; or at once with
   * `SIGKILL`, which tests use to simulate a crash); safe to call more than once.
   */
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
}

export interface SpawnServerOptions {
  /** The server's whole environment (PORT and HOST among it). */
  env: Record<string, string | undefined>;
  /** The server's entry point; the built heygen-api by default. */
  entry?: string;
  /** Each line the server prints, without terminal colours. */
  onLine?: (line: string) => void;
  timeoutMs?: number;
}

/**
 * Starts a heygen-api build as a child process and waits until it prints its URL. Fails with a
 * ServerStartError naming the reason (exit, taken port, timeout) and its last lines of output.
 */
export async function spawnServer({
  env,
  entry = fileURLToPath(import.meta.resolve('heygen-api')),
  onLine = () => {},
  timeoutMs = 20_000,
}: SpawnServerOptions): Promise<RunningServer> {
  const child = spawn(process.execPath, [entry], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  const lastLines: string[] = [];
  let ready: (url: string) => void = () => {};
  const readyUrl = new Promise<string>((resolve) => (ready = resolve));

  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => {
      // Nest colours its own lines; whoever shows them decides on colours.
      const plain = stripVTControlCharacters(line);
      if (plain.trim() === '') return;
      lastLines.push(plain);
      if (lastLines.length > 5) lastLines.shift();
      onLine(plain);
      const match = READY_LINE.exec(plain);
      if (match?.[1]) ready(match[1]);
    });
  }

  let stopping: Promise<void> | undefined;
  const stop = (signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> =>
    (stopping ??= (async () => {
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
      const pid = child.pid;
      treeKill(pid, signal);
      const timer = setTimeout(() => treeKill(pid, 'SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    })());

  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    readyUrl.then((url) => ({ url })),
    exited.then((code) => ({ exitCode: code })),
    once(child, 'error').then(([error]) => ({ error: error as Error })),
    new Promise<{ timeout: true }>(
      (resolve) => (timer = setTimeout(() => resolve({ timeout: true }), timeoutMs)),
    ),
  ]);
  clearTimeout(timer);

  if ('url' in outcome) return { url: outcome.url, pid: child.pid!, stop };
  await stop();
  const detail = lastLines.join(' | ') || 'no output';
  if ('error' in outcome)
    throw new ServerStartError(`heygen-api could not be started: ${outcome.error.message}`);
  if ('timeout' in outcome) {
    throw new ServerStartError(
      `heygen-api did not become ready within ${timeoutMs} ms (${detail})`,
    );
  }
  const reason = /already in use/i.test(detail)
    ? `port ${env.PORT} is already in use`
    : `it exited with code ${outcome.exitCode}`;
  throw new ServerStartError(`heygen-api would not start: ${reason} (${detail})`);
}

export interface StartServerOptions {
  jobTime: number;
  port: number;
  log: Logger;
  env?: Record<string, string | undefined>;
  timeoutMs?: number;
}

/** Starts the built heygen-api for the integration run, its output logged as [heygen-api]. */
export function startServer({
  jobTime,
  port,
  log,
  env = process.env,
  timeoutMs,
}: StartServerOptions): Promise<RunningServer> {
  return spawnServer({
    env: {
      ...env,
      PORT: String(port),
      HOST: '127.0.0.1',
      JOB_TIME: String(jobTime),
      LOG_LEVEL: 'log',
    },
    onLine: (line) => log.log('heygen-api', line),
    ...(timeoutMs !== undefined && { timeoutMs }),
  });
}
