import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';

/** The image's entry point: what `docker run heygen [options]` hands the options through. */
const ENTRYPOINT = fileURLToPath(new URL('../../docker/entrypoint.sh', import.meta.url));
const CLI = 'heygen-cli/dist/main.js';

/**
 * Runs the entry point with a PATH of its own: a `node` that prints its arguments one a line
 * (what heygen-cli would have been given), `dirname`, and with `redis` a `redis-server`.
 */
function entrypoint(
  args: string[],
  { redis = false, env = {} }: { redis?: boolean; env?: Record<string, string> } = {},
) {
  const bin = mkdtempSync(join(tmpdir(), 'heygen-entrypoint-'));
  onTestFinished(() => rmSync(bin, { recursive: true, force: true }));
  writeFileSync(join(bin, 'node'), '#!/bin/sh\nprintf "%s\\n" "$@"\n', { mode: 0o755 });
  const dirname = (process.env.PATH ?? '')
    .split(delimiter)
    .map((dir) => join(dir, 'dirname'))
    .find((path) => existsSync(path));
  symlinkSync(dirname!, join(bin, 'dirname'));
  if (redis) writeFileSync(join(bin, 'redis-server'), '#!/bin/sh\n', { mode: 0o755 });
  const result = spawnSync('/bin/sh', [ENTRYPOINT, ...args], {
    encoding: 'utf8',
    env: { PATH: bin, ...env },
  });
  return { code: result.status, argv: result.stdout.split('\n').slice(0, -1), ...result };
}

describe('docker/entrypoint.sh', () => {
  it("should put the run's one server on PORT, unless the options choose a port or a server", () => {
    expect(entrypoint([]).argv).toEqual([CLI, '--port', '3000']);
    expect(entrypoint(['cli', '--json'], { env: { PORT: '8080' } }).argv).toEqual([
      CLI,
      '--port',
      '8080',
      '--json',
    ]);
    expect(entrypoint(['--instances', '1']).argv).toEqual([
      CLI,
      '--port',
      '3000',
      '--instances',
      '1',
    ]);
    expect(entrypoint(['--url', 'http://api:3000']).argv).toEqual([
      CLI,
      '--url',
      'http://api:3000',
    ]);
  });

  // heygen-cli refuses --port with --instances above 1: `docker run heygen --instances 2` failed
  // on an option the user never gave.
  it.each([[['--instances', '2']], [['--instances=2']], [['cli', '--json', '--instances', '3']]])(
    'should give several instances no --port (%j)',
    (args) => {
      const { code, argv, stderr } = entrypoint(args, { redis: true });
      expect(code, stderr).toBe(0);
      expect(argv).toEqual([CLI, ...args.filter((arg) => arg !== 'cli')]);
    },
  );

  it.each([
    [['--instances', '2'], 2],
    [['--instances=4', '--json'], 4],
  ])(
    'should say in one line that the image has no redis-server for several instances (%j)',
    (args, instances) => {
      const { code, stdout, stderr } = entrypoint(args);
      expect(code).toBe(1);
      expect(stdout).toBe('');
      expect(stderr).toBe(
        `heygen: --instances ${instances} needs redis-server, which this image does not have: leave out --instances, or run several API replicas on Redis with compose.yaml (\`docker compose up\`)\n`,
      );
    },
  );

  it('should leave a REDIS_SERVER of the user, and a value that is no number, to heygen-cli', () => {
    const named = entrypoint(['--instances', '2'], { env: { REDIS_SERVER: '/opt/redis-server' } });
    expect(named.argv).toEqual([CLI, '--instances', '2']);
    expect(entrypoint(['--instances', 'two']).argv).toEqual([CLI, '--instances', 'two']);
  });
});
