import { afterAll, beforeAll, onTestFinished } from 'vitest';
import {
  connectTestRedis,
  newPrefix,
  startRedis,
  type TestRedis,
} from '../../test/support/redis-server.js';
import { describeJobEventsContract } from './job-events.contract.js';
import { RedisJobEvents } from './redis-job-events.js';

let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(() => redis.stop());

describeJobEventsContract('Redis', async (env = {}) => {
  // Two instances: two sets of connections under one prefix, as two processes would have.
  const prefix = newPrefix();
  const [sut, peer] = await Promise.all(
    [0, 1].map(async () => {
      const { config, connections } = await connectTestRedis(redis, env, prefix);
      const events = new RedisJobEvents(config, connections);
      events.onModuleInit();
      onTestFinished(() => events.onModuleDestroy());
      return events;
    }),
  );
  return { sut: sut!, peer: peer! };
});
