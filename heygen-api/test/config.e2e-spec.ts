import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { ServerStartError, spawnServer } from 'heygen-test-support';
import { describeEachAdapter } from './support/adapters.js';
import { builtServerEnv } from './support/built-server.js';

/**
 * Starts the built server (npm run build) with `env`, without the variables `unset`, expecting it
 * to refuse; its lines.
 */
async function refusedStart(
  env: Record<string, string>,
  cwd?: string,
  unset: string[] = [],
): Promise<{ lines: string[]; error: Error }> {
  const lines: string[] = [];
  const serverEnv = builtServerEnv(env);
  for (const name of unset) delete serverEnv[name];
  const error = await spawnServer({
    env: serverEnv,
    onLine: (line) => lines.push(line),
    timeoutMs: 10_000,
    ...(cwd !== undefined && { cwd }),
  }).then(
    async (server) => {
      await server.stop();
      return new Error('the server started');
    },
    (caught: unknown) => caught as Error,
  );
  return { lines, error };
}

/** A working directory whose `.env` is a directory, removed after the test. */
function dotEnvDirectory(): string {
  const dir = mkdtempSync(join(tmpdir(), 'heygen-env-'));
  mkdirSync(join(dir, '.env'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describeEachAdapter(() => {
  describe('configuration refused at start (built server)', () => {
    it.each([
      ['HOST', { HOST: 'not a host' }],
      ['HOST', { HOST: 'nonexistent.invalid' }],
      ['CORS_ORIGINS', { CORS_ORIGINS: 'https://app.example.com/' }],
      ['MAX_STREAMS', { MAX_STREAMS: '-1' }],
      ['PORT', { PORT: 'eighty' }],
      ['HTTP_ADAPTER', { HTTP_ADAPTER: 'koa' }],
      // ioredis would send `SELECT NaN`, and the server died with Redis's error and a stack.
      ['REDIS_URL', { JOBS_DRIVER: 'redis', REDIS_URL: 'redis://127.0.0.1:6379/abc' }],
      // A `.env` that cannot be read (here a directory) was blamed on PORT, or printed a stack.
      ['.env', { DOT_ENV_DIRECTORY: '1' }],
    ])('should print one line naming %s and exit 1, without a stack trace', async (name, env) => {
      const cwd = 'DOT_ENV_DIRECTORY' in env ? dotEnvDirectory() : undefined;
      const { lines, error } = await refusedStart(env, cwd);

      expect(error).toBeInstanceOf(ServerStartError);
      expect(error.message).toMatch(/exited with code 1/);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(new RegExp(`^heygen-api: .*${name}`));
      expect(lines[0]).not.toMatch(/\bat .*:\d+:\d+/);
    });

    it('should name a HOST read from .env as it was written (review of 2026-12-01)', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'heygen-env-'));
      onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
      writeFileSync(join(dir, '.env'), 'HOST=nonexistent.invalid\n');
      const { lines } = await refusedStart({}, dir, ['HOST']);

      // It said HOST=undefined: the message read the process's environment, not the .env.
      expect(lines).toEqual([expect.stringMatching(/^heygen-api: HOST="nonexistent\.invalid": /)]);
    });

    it('should name every bad variable on its one line, HTTP_ADAPTER among them (review of 2026-12-01)', async () => {
      const { lines } = await refusedStart({ HTTP_ADAPTER: 'koa', PORT: 'eighty' });

      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain('HTTP_ADAPTER');
      expect(lines[0]).toContain('PORT');
    });
  });

  describe('LOG_LEVEL (built server)', () => {
    /** The lines a server prints while it starts, with `env`. */
    async function startLines(env: Record<string, string>): Promise<string[]> {
      const lines: string[] = [];
      const server = await spawnServer({
        env: builtServerEnv(env),
        onLine: (line) => lines.push(line),
      });
      await server.stop();
      return lines;
    }

    it('should print more at verbose than by default (issue 16)', async () => {
      const quiet = await startLines({});
      const verbose = await startLines({ LOG_LEVEL: 'verbose' });

      expect(quiet).toHaveLength(1);
      expect(verbose.length).toBeGreaterThan(quiet.length);
      expect(verbose.join('\n')).toMatch(/Mapped \{\/create, POST\} route/);
    });
  });
});
