import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { connectTestRedis, useTestRedis } from '../../test/support/redis-server.js';
import { clientStub, otherClientStub } from '../../test/unit/stubs.js';
import { RedisJobEvents } from '../events/redis-job-events.js';
import { BullmqJobRunner } from '../runner/bullmq-job-runner.js';
import { RedisJobStore } from '../store/redis-job-store.js';
import { type RedisConnections } from './redis-connections.js';

const redis = useTestRedis();

// The documented bounds (docs/reliability.md), not the constants of the code, which must keep them.
/** The longest a stream waits for its subscription (COMMAND_TIMEOUT_MS). */
const SUBSCRIBE_MS = 2000;
/** The longest a graceful stop waits for Redis to take its running jobs back (HAND_OVER_MS). */
const HAND_OVER_MS = 3000;

/**
 * Stops the redis-server process (SIGSTOP) until the test ends: connected, it answers nothing, as a
 * paused VM or a network that drops packets. Its connections stay `ready`: not "away".
 */
async function stopAnswering(connections: RedisConnections): Promise<void> {
  const info = await connections.command.info('server');
  const pid = Number(/^process_id:(\d+)/m.exec(info)![1]);
  process.kill(pid, 'SIGSTOP');
  onTestFinished(() => {
    process.kill(pid, 'SIGCONT');
  });
}

/**
 * The bounds are the documented behaviour, so they are timed on a fake clock: only the timers are
 * fake (the bounds are setTimeouts); Redis and the sockets are real.
 */
function fakeTimers(): void {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  onTestFinished(() => {
    vi.useRealTimers();
  });
}

/** What `promise` gave once it settled, `'waiting'` until then. */
function watch(promise: Promise<unknown>): () => unknown {
  let outcome: unknown = 'waiting';
  promise.then(
    (value) => (outcome = { value }),
    (error: unknown) => (outcome = { error }),
  );
  return () => outcome;
}

describe('Redis connected but not answering', () => {
  it('should refuse a stream STORE_UNAVAILABLE once its subscription waited 2 s, not before', async () => {
    const { config, connections } = await connectTestRedis(redis);
    const events = new RedisJobEvents(config, connections);
    events.onModuleInit();
    onTestFinished(() => events.onModuleDestroy());
    // The subscriber is connected, and has subscribed before: Redis answered until now.
    onTestFinished(events.subscribe(otherClientStub, () => {}));
    await events.head(otherClientStub);
    await stopAnswering(connections);
    fakeTimers();

    // What a stream does: subscribe, then read its position (the snapshot's, or the replay's).
    const unsubscribe = events.subscribe(clientStub, () => {});
    onTestFinished(unsubscribe);
    const head = watch(events.head(clientStub));

    await vi.advanceTimersByTimeAsync(SUBSCRIBE_MS - 1);
    expect(head()).toBe('waiting');
    await vi.advanceTimersByTimeAsync(1);
    // Answered 503 STORE_UNAVAILABLE, which clients retry, rather than left hanging.
    expect(head()).toMatchObject({ error: { code: 'STORE_UNAVAILABLE' } });
  });

  it('should end the runner’s graceful stop once its hand-over waited 3 s, not before', async () => {
    const env = { JOB_TIME: '60000', PROGRESS_INTERVAL_MS: '60000', RUNNER_LOCK_MS: '5000' };
    const { config, connections } = await connectTestRedis(redis, env);
    const store = new RedisJobStore(config, connections);
    const events = new RedisJobEvents(config, connections);
    const runner = new BullmqJobRunner(config, connections, store, events);
    events.onModuleInit();
    runner.onModuleInit();
    onTestFinished(() => events.onModuleDestroy());
    const { record } = await store.create({
      clientId: clientStub,
      duration: 60_000,
      fail: false,
      now: Date.now(),
      limits: { activePerClient: 10, keptPerClient: 10, active: 10 },
    });
    runner.run(record!, () => Promise.resolve(undefined));
    // Running here: the stop has a job to hand back to the queue.
    await vi.waitFor(
      async () => expect((await store.get(clientStub, record!.job.id))?.job.status).toBe('running'),
      { timeout: 5000, interval: 20 },
    );
    await stopAnswering(connections);
    fakeTimers();

    const stopped = watch(runner.beforeApplicationShutdown());

    await vi.advanceTimersByTimeAsync(HAND_OVER_MS - 1);
    expect(stopped()).toBe('waiting');
    await vi.advanceTimersByTimeAsync(1);
    // The stop goes on without it: the job's lock expires, and another instance takes it on.
    expect(stopped()).toEqual({ value: undefined });
  });
});
