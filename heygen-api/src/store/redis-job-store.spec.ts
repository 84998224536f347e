import { connectTestRedis, newPrefix, useTestRedis } from '../../test/support/redis-server.js';
import { describeJobStoreContract } from './job-store.contract.js';
import { RedisJobStore } from './redis-job-store.js';

const redis = useTestRedis();

describeJobStoreContract('Redis', async (env = {}) => {
  // Two instances: two sets of connections under one prefix, as two processes would have.
  const prefix = newPrefix();
  const a = await connectTestRedis(redis, env, prefix);
  const b = await connectTestRedis(redis, env, prefix);
  return {
    sut: new RedisJobStore(a.config, a.connections),
    peer: new RedisJobStore(b.config, b.connections),
  };
});
