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
  /** Stops the server and everything it spawned; safe to call more than once. */
  stop(): Promise<void>;
}

export interface StartServerOptions {
  jobTime: number;
  port: number;
  log: Logger;
  env?: Record<string, string | undefined>;
  /** The server's entry point; the built heygen-api by default. */
  entry?: string;
  timeoutMs?: number;
}

/** Starts the built heygen-api as a child process and waits until it is ready. */
export async function startServer({
  jobTime,
  port,
  log,
  env = process.env,
  entry = fileURLToPath(import.meta.resolve('heygen-api')),
  timeoutMs = 20_000,
}: StartServerOptions): Promise<RunningServer> {
  const child = spawn(process.execPath, [entry], {
    env: {
      ...env,
      PORT: String(port),
      HOST: '127.0.0.1',
      JOB_TIME: String(jobTime),
      LOG_LEVEL: 'log',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  const lastLines: string[] = [];
  let ready: (url: string) => void = () => {};
  const readyUrl = new Promise<string>((resolve) => (ready = resolve));

  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => {
      // Nest colours its own lines; the tag is ours to colour.
      const plain = stripVTControlCharacters(line);
      if (plain.trim() === '') return;
      lastLines.push(plain);
      if (lastLines.length > 5) lastLines.shift();
      log.log('heygen-api', plain);
      const match = READY_LINE.exec(plain);
      if (match?.[1]) ready(match[1]);
    });
  }

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
      const pid = child.pid;
      treeKill(pid, 'SIGTERM');
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
    ? `port ${port} is already in use`
    : `it exited with code ${outcome.exitCode}`;
  throw new ServerStartError(`heygen-api would not start: ${reason} (${detail})`);
}
