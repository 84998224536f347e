import { startRedis, type TestRedis, type TestRedisOptions } from 'heygen-test-support/redis';
import { afterAll, beforeAll, onTestFinished } from 'vitest';
import { type AppConfig } from '../../src/config/app-config.js';
import { RedisConnections } from '../../src/redis/redis-connections.js';
import { configStub } from '../unit/stubs.js';

// The launcher is shared with the bench (heygen-test-support/redis); what is heygen-api's is here.
export { startRedis, type TestRedis, type TestRedisOptions };

/**
 * One redis-server for the file: started before its first test, stopped after its last. The
 * handle can be taken at once; its members work from the first hook on.
 */
export function useTestRedis(options: TestRedisOptions = {}): TestRedis {
  let redis: TestRedis | undefined;
  beforeAll(async () => {
    redis = await startRedis(options);
  });
  afterAll(() => redis?.stop());
  const started = (): TestRedis => {
    if (!redis) throw new Error('useTestRedis(): Redis starts in beforeAll, use it from there on');
    return redis;
  };
  return {
    get url() {
      return started().url;
    },
    get port() {
      return started().port;
    },
    kill: () => started().kill(),
    restart: (restartOptions) => started().restart(restartOptions),
    stop: () => started().stop(),
  };
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
