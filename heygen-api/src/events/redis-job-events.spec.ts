import { onTestFinished } from 'vitest';
import { connectTestRedis, newPrefix, useTestRedis } from '../../test/support/redis-server.js';
import { describeJobEventsContract } from './job-events.contract.js';
import { RedisJobEvents } from './redis-job-events.js';

const redis = useTestRedis();

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
