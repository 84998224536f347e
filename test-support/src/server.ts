import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { type Server, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { stripVTControlCharacters } from 'node:util';

/**
 * The built heygen-api of this repository (the root `npm run build` makes it). A path, not
 * `import.meta.resolve('heygen-api')`: this package does not depend on the server it starts.
 */
export const API_MAIN = fileURLToPath(new URL('../../heygen-api/dist/main.js', import.meta.url));

/**
 * The line a server prints once it accepts requests: heygen-api's own (heygen-api/src/main.ts),
 * `heygen-api listening on http://…`, and the bench's reference server's.
 */
const READY_LINE = /listening on (http:\/\/\S+)/;

/** The server could not be started; the message says why, in words a user can act on. */
export class ServerStartError extends Error {
  override name = 'ServerStartError';
}

/** A server build running as a child process. */
export interface RunningServer {
  /** Base URL without a trailing slash, as the server printed it. */
  url: string;
  /** Host and port of `url`, IPv6 brackets removed: what a TCP client connects to. */
  host: string;
  port: number;
  pid: number;
  /**
   * Stops the server (SIGTERM, then SIGKILL after 5 s; or at once with
   * `SIGKILL`, which tests use to simulate a crash); safe to call more than once.
   */
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
}

export interface SpawnServerOptions {
  /** The server's whole environment (PORT and HOST among it). */
  env: Record<string, string | undefined>;
  /** The script to run. @default API_MAIN */
  entry?: string;
  /** Node options before the script, e.g. `--cpu-prof`. */
  nodeArgs?: string[];
  /** The working directory, where the server reads its `.env`. @default this process's */
  cwd?: string;
  /** What error messages call the server. @default 'heygen-api' */
  name?: string;
  /** Each line the server prints, without terminal colours. */
  onLine?: (line: string) => void;
  /** @default 20000 */
  timeoutMs?: number;
  /**
   * Told how to stop the server as soon as it is spawned, before it is ready: a caller interrupted
   * meanwhile (Ctrl-C during start-up) can still stop it, rather than leave it running.
   */
  onSpawn?: (stop: RunningServer['stop']) => void;
}

/**
 * Starts a server build as a child process and waits until it prints its URL. Fails with a
 * {@link ServerStartError} naming the reason (exit, taken port, timeout) and its last lines.
 * The one launcher of the repository: the CLI, the library's tests and the bench build on it.
 *
 * @example
 * ```ts
 * const server = await spawnServer({ env: { ...process.env, PORT: '0', HOST: '127.0.0.1' } });
 * await server.stop();
 * ```
 */
export async function spawnServer({
  env,
  entry = API_MAIN,
  nodeArgs = [],
  cwd,
  name = 'heygen-api',
  onLine = () => {},
  timeoutMs = 20_000,
  onSpawn,
}: SpawnServerOptions): Promise<RunningServer> {
  const child = spawn(process.execPath, [...nodeArgs, entry], {
    env,
    ...(cwd !== undefined && { cwd }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
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
      // The server spawns nothing of its own: its process is all there is to stop. (tree-kill,
      // used before, runs `ps`, which node:slim images lack: the stop crashed the CLI.)
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    })());
  onSpawn?.(stop);

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

  if ('url' in outcome) {
    const { hostname, port } = new URL(outcome.url);
    return {
      url: outcome.url,
      host: hostname.replace(/^\[|\]$/g, ''),
      port: Number(port),
      pid: child.pid!,
      stop,
    };
  }
  await stop();
  const detail = lastLines.join(' | ') || 'no output';
  if ('error' in outcome)
    throw new ServerStartError(`${name} could not be started: ${outcome.error.message}`);
  if ('timeout' in outcome) {
    throw new ServerStartError(`${name} did not become ready within ${timeoutMs} ms (${detail})`);
  }
  const reason = /already in use/i.test(detail)
    ? `port ${env.PORT} is already in use`
    : `it exited with code ${outcome.exitCode}`;
  throw new ServerStartError(`${name} would not start: ${reason} (${detail})`);
}

/** Quick timings, so that tests see jobs end, heartbeats pass and streams retry within ms. */
export const QUICK_TIMINGS: Readonly<Record<string, string>> = {
  JOB_TIME: '300',
  HEARTBEAT_MS: '100',
  PROGRESS_INTERVAL_MS: '100',
  STREAM_RETRY_MS: '100',
};

/**
 * Starts the built heygen-api on a random loopback port with {@link QUICK_TIMINGS}, overridden by
 * `env`. The caller stops it (`stop('SIGKILL')` for a crash).
 */
export function startTestServer(env: Record<string, string> = {}): Promise<RunningServer> {
  return spawnServer({
    env: {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      ...QUICK_TIMINGS,
      ...env,
    },
  });
}

/** A server listening in this process, with its connections in the test's hands. */
export interface ConnectionTracker {
  /** Cuts every open connection, as a network drop would; the server keeps listening. */
  readonly destroyConnections: () => void;
}

/**
 * Tracks the sockets of a server in this process (an app's HTTP server after `listen`), so that
 * a test can drop them all at once. Cross-process servers are disrupted with the proxy instead.
 */
export function trackConnections(server: Server): ConnectionTracker {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  return {
    destroyConnections: () => {
      for (const socket of sockets) socket.destroy();
    },
  };
}
