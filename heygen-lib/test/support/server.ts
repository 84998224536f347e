import { fileURLToPath } from 'node:url';
import { spawnServer } from '../../../heygen-cli/src/server.js';

/** The built heygen-api entry point (the root test command builds every package first). */
export const SERVER_MAIN = fileURLToPath(
  new URL('../../../heygen-api/dist/main.js', import.meta.url),
);

/** A heygen-api child process on a random port. */
export interface ServerHandle {
  url: string;
  host: string;
  port: number;
  /** Kill it (SIGKILL: a crash, not a clean shutdown) and wait for the exit. */
  kill(): Promise<void>;
}

/** Starts `node heygen-api/dist/main.js` with quick test timings and resolves once it is ready. */
export const startServer = async (env: Record<string, string> = {}): Promise<ServerHandle> => {
  const server = await spawnServer({
    entry: SERVER_MAIN,
    env: {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      JOB_TIME: '300',
      HEARTBEAT_MS: '100',
      PROGRESS_INTERVAL_MS: '100',
      STREAM_RETRY_MS: '100',
      LOG_LEVEL: 'warn',
      ...env,
    },
  });
  const { hostname, port } = new URL(server.url);
  return {
    url: server.url,
    host: hostname,
    port: Number(port),
    kill: () => server.stop('SIGKILL'),
  };
};
