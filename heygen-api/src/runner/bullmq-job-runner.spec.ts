import { onTestFinished } from 'vitest';
import { connectTestRedis, newPrefix, useTestRedis } from '../../test/support/redis-server.js';
import { RedisJobEvents } from '../events/redis-job-events.js';
import { RedisJobStore } from '../store/redis-job-store.js';
import { BullmqJobRunner } from './bullmq-job-runner.js';
import { describeJobRunnerContract } from './job-runner.contract.js';

const redis = useTestRedis();

describeJobRunnerContract('BullMQ, two instances on Redis', async (env = {}) => {
  const prefix = newPrefix();
  const instances = await Promise.all(
    [0, 1].map(async () => {
      const { config, connections } = await connectTestRedis(
        redis,
        { JOB_TIME: '300', RUNNER_LOCK_MS: '1000', ...env },
        prefix,
      );
      const store = new RedisJobStore(config, connections);
      const events = new RedisJobEvents(config, connections);
      const runner = new BullmqJobRunner(config, connections, store, events);
      events.onModuleInit();
      runner.onModuleInit();
      let stopped: Promise<void> | undefined;
      const shutdown = () => (stopped ??= runner.onModuleDestroy());
      // Before the connections close (registered earlier, so run later).
      onTestFinished(shutdown);
      return { store, events, runner, shutdown };
    }),
  );
  const [a, b] = instances as [(typeof instances)[0], (typeof instances)[0]];
  return {
    runners: [a.runner, b.runner],
    store: a.store,
    events: b.events,
    shutdown: (i) => instances[i]!.shutdown(),
  };
});
