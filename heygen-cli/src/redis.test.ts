import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { Cleanup } from './cleanup.js';
import { findRedisServer, RedisStartError, startRedis } from './redis.js';

/** Sends PING over a plain socket and returns the answer line. */
function ping(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write('PING\r\n'));
    socket.once('data', (chunk) => {
      socket.destroy();
      resolve(chunk.toString().trim());
    });
    socket.once('error', reject);
  });
}

const HINT = 'install redis-server (e.g. `apt-get install redis-server`) or run with --instances 1';

describe(findRedisServer.name, () => {
  it('should find redis-server on PATH, or the binary REDIS_SERVER names', () => {
    expect(findRedisServer(process.env, 2)).toMatch(/\/redis-server$/);
    const found = findRedisServer(process.env, 2);
    expect(findRedisServer({ REDIS_SERVER: found }, 2)).toBe(found);
  });

  it.each([
    [{ PATH: '/nonexistent' }, `--instances 2 needs redis-server, which is not on PATH: ${HINT}`],
    [
      { PATH: '/nonexistent', REDIS_SERVER: 'redis-nope' },
      `--instances 2 needs redis-server, and REDIS_SERVER=redis-nope is not on PATH: ${HINT}`,
    ],
    [
      { REDIS_SERVER: '/nonexistent/redis-server' },
      `--instances 2 needs redis-server, and REDIS_SERVER=/nonexistent/redis-server is not an executable file: ${HINT}`,
    ],
  ])('should say what to do when there is none (%j)', (env, message) => {
    expect(() => findRedisServer(env, 2)).toThrow(RedisStartError);
    expect(() => findRedisServer(env, 2)).toThrow(message);
  });
});

describe(startRedis.name, () => {
  it('should start a redis-server in a temp dir, stopped and removed by the cleanup', async () => {
    const cleanup = new Cleanup();
    const redis = await startRedis(findRedisServer(process.env, 2), cleanup);
    try {
      expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
      expect(await ping(redis.port)).toBe('+PONG');
      expect(existsSync(redis.dir)).toBe(true);
    } finally {
      await cleanup.run();
    }
    expect(existsSync(redis.dir)).toBe(false);
    await expect(ping(redis.port)).rejects.toThrow(/ECONNREFUSED/);
  });

  it('should fail in one line, leaving no dir, when the binary will not start', async () => {
    const cleanup = new Cleanup();
    await expect(startRedis('/bin/false', cleanup)).rejects.toThrow(
      /^redis-server \(\/bin\/false\) would not start: .*it exited with code 1/,
    );
    await cleanup.run();
  });
});
