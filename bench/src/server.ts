import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { API_MAIN, spawnServer, type RunningServer } from 'heygen-test-support/server';

export interface BenchServer extends RunningServer {
  /** The server's resident set size now, in bytes (VmRSS of /proc/<pid>/status). */
  rss(): number;
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

let apiEntry = API_MAIN;

/** Benchmarks another build of heygen-api (e.g. the one before a change) instead of the current one. */
export function useApiEntry(file: string): void {
  apiEntry = file;
}
// From src (the smoke test) as from dist: the compiled reference servers.
export const REFERENCE_ENTRY = fileURLToPath(
  new URL('../dist/reference-server.js', import.meta.url),
);
export const REFERENCE_EXPRESS_ENTRY = fileURLToPath(
  new URL('../dist/reference-express-server.js', import.meta.url),
);

/** Starts the built heygen-api as a child process on a random loopback port; resolves once ready. */
export async function startServer({
  env = {},
  cpuProfDir,
  cpuProfName,
  entry = apiEntry,
}: StartOptions = {}): Promise<BenchServer> {
  const server = await spawnServer({
    entry,
    name:
      entry === REFERENCE_ENTRY || entry === REFERENCE_EXPRESS_ENTRY
        ? 'the reference server'
        : 'heygen-api',
    nodeArgs: cpuProfDir
      ? [
          '--cpu-prof',
          `--cpu-prof-dir=${cpuProfDir}`,
          `--cpu-prof-name=${cpuProfName ?? 'server.cpuprofile'}`,
        ]
      : [],
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'production',
      LOG_LEVEL: 'error',
      ...env,
      PORT: '0',
      HOST: '127.0.0.1',
    },
  });
  return { ...server, rss: () => rssOf(server.pid) };
}

/** VmRSS of a process, in bytes. */
export function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /^VmRSS:\s+(\d+) kB/m.exec(status)?.[1];
  if (kb === undefined) throw new Error(`no VmRSS for ${pid}`);
  return Number(kb) * 1024;
}
