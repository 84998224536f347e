import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** The line heygen-api prints once it accepts requests (heygen-api/src/main.ts). */
const READY_LINE = /listening on (http:\/\/\S+)/;

export interface BenchServer {
  url: string;
  pid: number;
  /** The server's resident set size now, in bytes (VmRSS of /proc/<pid>/status). */
  rss(): number;
  /** Stops the server (SIGTERM, then SIGKILL after 5 s); writes its CPU profile if asked. */
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Environment for this scenario, on top of a quiet, loopback-only default. */
  env?: Record<string, string>;
  /** Directory for a `node --cpu-prof` profile of the server, written when it stops. */
  cpuProfDir?: string;
  /** Name of the profile file. */
  cpuProfName?: string;
  /** Run this script instead of heygen-api (the reference server). */
  entry?: string;
}

let apiEntry = fileURLToPath(new URL('../../heygen-api/dist/main.js', import.meta.url));

/** Benchmarks another build of heygen-api (e.g. the one before a change) instead of the current one. */
export function useApiEntry(file: string): void {
  apiEntry = file;
}
// From src (the smoke test) as from dist: the compiled reference server.
export const REFERENCE_ENTRY = fileURLToPath(
  new URL('../dist/reference-server.js', import.meta.url),
);

/** Starts the built heygen-api as a child process on a random loopback port; resolves once ready. */
export async function startServer({
  env = {},
  cpuProfDir,
  cpuProfName,
  entry = apiEntry,
}: StartOptions = {}): Promise<BenchServer> {
  const nodeArgs = cpuProfDir
    ? [
        '--cpu-prof',
        `--cpu-prof-dir=${cpuProfDir}`,
        `--cpu-prof-name=${cpuProfName ?? 'server.cpuprofile'}`,
      ]
    : [];
  const child = spawn(process.execPath, [...nodeArgs, entry], {
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'production',
      LOG_LEVEL: 'error',
      ...env,
      PORT: '0',
      HOST: '127.0.0.1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = once(child, 'exit');
  const lines: string[] = [];
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`server not ready: ${lines.join(' | ')}`)),
      20_000,
    );
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => {
        const match = READY_LINE.exec(line);
        if (match?.[1]) {
          clearTimeout(timer);
          resolve(match[1]);
        } else {
          lines.push(line);
          if (lines.length > 20) lines.shift();
        }
      });
    }
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`server exited: ${lines.join(' | ')}`));
    });
  });
  const pid = child.pid!;
  let stopping: Promise<void> | undefined;
  return {
    url: url.replace('localhost', '127.0.0.1'),
    pid,
    rss: () => rssOf(pid),
    stop: () =>
      (stopping ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      })()),
  };
}

/** VmRSS of a process, in bytes. */
export function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /^VmRSS:\s+(\d+) kB/m.exec(status)?.[1];
  if (kb === undefined) throw new Error(`no VmRSS for ${pid}`);
  return Number(kb) * 1024;
}
