import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { onTestFinished } from 'vitest';
import { type AppConfig } from '../../src/config/app-config.js';
import { RedisConnections } from '../../src/redis/redis-connections.js';
import { configStub } from '../unit/stubs.js';

/** Debian's redis-server (scripts/install-test-deps.sh installs it); REDIS_SERVER may name another. */
const REDIS_SERVER = process.env.REDIS_SERVER ?? 'redis-server';

/** A real redis-server of the test's own, on a free loopback port, in a temp dir, with no persistence. */
export interface TestRedis {
  /** `redis://127.0.0.1:<port>`: what REDIS_URL is set to. */
  url: string;
  port: number;
  /** Stops it (SIGKILL: a test never needs its data again) and removes its dir; idempotent. */
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Starts redis-server and waits until it accepts connections (a few ms). */
export async function startRedis(): Promise<TestRedis> {
  const dir = await mkdtemp(join(tmpdir(), 'heygen-redis-'));
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const child = spawn(
      REDIS_SERVER,
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const lines: string[] = [];
    const ready = await new Promise<boolean>((resolve) => {
      createInterface({ input: child.stdout }).on('line', (line) => {
        lines.push(line);
        if (/Ready to accept connections/.test(line)) resolve(true);
      });
      child.once('exit', () => resolve(false));
      child.once('error', (error) => {
        lines.push(error.message);
        resolve(false);
      });
    });
    if (ready) return { url: `redis://127.0.0.1:${port}`, port, stop: stopper(child, dir) };
    // Another process took the port between the probe and the start: try another.
    if (attempt < 3 && lines.some((line) => /Address already in use/.test(line))) continue;
    await rm(dir, { recursive: true, force: true });
    throw new Error(
      `${REDIS_SERVER} would not start (run scripts/install-test-deps.sh): ${lines.slice(-3).join(' | ')}`,
    );
  }
}

function stopper(child: ChildProcess, dir: string): () => Promise<void> {
  let stopping: Promise<void> | undefined;
  return () =>
    (stopping ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = once(child, 'exit');
        child.kill('SIGKILL');
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    })());
}

let prefixes = 0;

/**
 * Connections to `redis` under a prefix of their own, as one instance of a deployment would have
 * them: tests of one file share one redis-server and never see each other's keys.
 */
export async function connectTestRedis(
  redis: TestRedis,
  env: Record<string, string> = {},
  prefix = `test${++prefixes}:`,
): Promise<{ config: AppConfig; connections: RedisConnections }> {
  const config = configStub({ ...env, JOBS_DRIVER: 'redis', REDIS_URL: redis.url });
  const connections = await RedisConnections.connect(config, prefix);
  onTestFinished(() => connections.close());
  return { config, connections };
}

/** A fresh key prefix, for several "instances" of one test that must share their keys. */
export const newPrefix = (): string => `test${++prefixes}:`;
