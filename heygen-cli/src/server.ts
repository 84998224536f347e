import { spawnServer, type RunningServer } from 'heygen-test-support/server';
import { type Logger } from './logger.js';

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
