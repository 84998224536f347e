import { dirname } from 'node:path';
import {
  API_MAIN,
  spawnServer,
  type RunningServer,
  type SpawnServerOptions,
} from 'heygen-test-support/server';
import { type Logger } from './logger.js';

export interface StartServerOptions {
  jobTime: number;
  port: number;
  log: Logger;
  env?: Record<string, string | undefined>;
  timeoutMs?: number;
  /** With several instances: its name (`api-2`), on each of its log lines and in its errors. */
  instance?: string;
  /** How to stop it, told as soon as it is spawned (see spawnServer). */
  onSpawn?: SpawnServerOptions['onSpawn'];
}

/** Starts the built heygen-api for the integration run, its output logged as [heygen-api]. */
export function startServer({
  jobTime,
  port,
  log,
  env = process.env,
  timeoutMs,
  instance,
  onSpawn,
}: StartServerOptions): Promise<RunningServer> {
  return spawnServer({
    env: {
      ...env,
      PORT: String(port),
      HOST: '127.0.0.1',
      JOB_TIME: String(jobTime),
      // Warnings only, as readable text: at info the server writes a line per request, which
      // would bury the run's own story (the report counts the requests).
      LOG_LEVEL: 'warn',
      LOG_FORMAT: 'pretty',
      // The run's own server asks for no key: an API_KEYS of the shell failed every request of
      // the run with 401 (review of 2026-12-01).
      API_KEYS: '',
      // One server runs in memory: a JOBS_DRIVER of the shell is not the run's (--instances sets
      // its own, with its own Redis).
      ...(instance === undefined && { JOBS_DRIVER: 'memory' }),
    },
    // Where no `.env` is: one made for `npm run start:api` at the root (a Redis, keys, limits)
    // was read by the run's own server, which wrote into that Redis (review of 2026-12-01).
    cwd: dirname(API_MAIN),
    onLine: (line) => log.log('heygen-api', line, { instance }),
    ...(instance !== undefined && { name: `heygen-api ${instance}` }),
    ...(timeoutMs !== undefined && { timeoutMs }),
    ...(onSpawn && { onSpawn }),
  });
}

/**
 * A server given with --url must answer `GET /health` within `timeoutMs`; otherwise the run stops
 * with one line naming the URL and the cause (ECONNREFUSED, ENOTFOUND, a timeout, a bad status).
 */
export async function checkServer(url: string, timeoutMs: number): Promise<void> {
  const health = `${url}/health`;
  let response: Response;
  try {
    response = await fetch(health, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    throw new Error(
      `no heygen-api answers at ${health} (${failureCause(error, timeoutMs)}): start one with \`npm run start:api\`, or leave out --url`,
      { cause: error },
    );
  }
  await response.body?.cancel();
  if (!response.ok) {
    throw new Error(`${health} answered ${response.status}: heygen-api there is not healthy`);
  }
}

/** fetch says only "fetch failed"; the system's reason (e.g. `connect ECONNREFUSED …`) is its cause. */
function failureCause(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && error.name === 'TimeoutError') {
    return `no answer within ${timeoutMs} ms`;
  }
  const cause = error instanceof Error ? error.cause : undefined;
  if (cause instanceof Error) return cause.message;
  return error instanceof Error ? error.message : String(error);
}
