import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The built heygen-api entry point (the root test command builds every package first). */
export const SERVER_MAIN = fileURLToPath(
  new URL('../../../heygen-api/dist/main.js', import.meta.url),
);

/** A heygen-api child process on a random port. */
export interface ServerHandle {
  url: string;
  host: string;
  port: number;
  process: ChildProcess;
  /** Kill it (SIGKILL: a crash, not a clean shutdown) and wait for the exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts `node heygen-api/dist/main.js` and resolves once it prints its URL. */
export const startServer = (env: Record<string, string> = {}): Promise<ServerHandle> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SERVER_MAIN], {
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
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const exited = new Promise<void>((done) => child.once('exit', () => done()));
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const match = /heygen-api listening on (http:\/\/([\d.]+):(\d+))/.exec(output);
      if (!match) return;
      child.stdout.off('data', onData);
      resolve({
        url: match[1]!,
        host: match[2]!,
        port: Number(match[3]),
        process: child,
        kill: async (signal = 'SIGKILL') => {
          if (child.exitCode === null && child.signalCode === null) child.kill(signal);
          await exited;
        },
      });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => reject(new Error(`heygen-api exited (${code}):\n${output}`)));
    child.once('error', reject);
  });
