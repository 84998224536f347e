import { describe, expect, it } from 'vitest';
import { ServerStartError, spawnServer } from 'heygen-test-support';

/** Starts the built server (npm run build) with `env`, expecting it to refuse; its lines. */
async function refusedStart(
  env: Record<string, string>,
): Promise<{ lines: string[]; error: Error }> {
  const lines: string[] = [];
  const error = await spawnServer({
    env: { PATH: process.env.PATH ?? '', PORT: '0', HOST: '127.0.0.1', ...env },
    onLine: (line) => lines.push(line),
    timeoutMs: 10_000,
  }).then(
    async (server) => {
      await server.stop();
      return new Error('the server started');
    },
    (caught: unknown) => caught as Error,
  );
  return { lines, error };
}

describe('configuration refused at start (built server)', () => {
  it.each([
    ['HOST', { HOST: 'not a host' }],
    ['HOST', { HOST: 'nonexistent.invalid' }],
    ['CORS_ORIGINS', { CORS_ORIGINS: 'https://app.example.com/' }],
    ['MAX_STREAMS', { MAX_STREAMS: '-1' }],
    ['PORT', { PORT: 'eighty' }],
  ])('should print one line naming %s and exit 1, without a stack trace', async (name, env) => {
    const { lines, error } = await refusedStart(env);

    expect(error).toBeInstanceOf(ServerStartError);
    expect(error.message).toMatch(/exited with code 1/);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^heygen-api: .*${name}`));
    expect(lines[0]).not.toMatch(/\bat .*:\d+:\d+/);
  });
});
