import { ReplyError } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { connectTestRedis, useTestRedis } from '../../test/support/redis-server.js';
import { DomainError } from '../errors/domain-error.js';
import {
  asStoreError,
  retryWhileUnavailable,
  settlesWithin,
  storeCommand,
} from './redis-unavailable.js';

// A real Redis, killed and restarted by the last test: the commands connection's settings are
// what is under test.
const redis = useTestRedis();

const unavailable = { code: 'STORE_UNAVAILABLE', retryAfterSeconds: 1 };

describe('Redis away', () => {
  it("should keep Redis's own error replies as they are: a wrong command is a bug, not an outage", async () => {
    const { connections } = await connectTestRedis(redis);
    const failure = await storeCommand(connections.command.call('NO-SUCH-COMMAND')).catch(
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(ReplyError);
    expect(asStoreError(new DomainError('JOB_NOT_FOUND', 'gone'))).toMatchObject({
      code: 'JOB_NOT_FOUND',
    });
    // Redis loading its data after a restart answers, but only "not now".
    const Reply = ReplyError as new (message: string) => Error;
    const loading = new Reply('LOADING Redis is loading the dataset in memory');
    expect(asStoreError(loading)).toMatchObject(unavailable);
  });

  it('should fail a command with STORE_UNAVAILABLE at once while Redis is down, and run it again once it is back', async () => {
    const { connections } = await connectTestRedis(redis);
    expect(await storeCommand(connections.command.ping())).toBe('PONG');
    await redis.kill();
    // Bounded: the command is refused, not queued until the connection is back, where it would
    // run after its caller was answered 503.
    const refused = storeCommand(connections.command.set('late', 'yes')).catch(
      (error: unknown) => error,
    );
    expect(await settlesWithin(refused, 5000)).toBe(true);
    expect(await refused).toMatchObject(unavailable);

    let attempts = 0;
    const retried = retryWhileUnavailable(
      () => {
        attempts += 1;
        return storeCommand(connections.command.ping());
      },
      () => true,
    );
    await expect.poll(() => attempts).toBeGreaterThan(1);
    await redis.restart();
    expect(await retried).toBe('PONG');
    expect(await connections.command.get('late')).toBeNull();
  });

  it('should stop retrying once the work is no longer wanted, and never retry a bug', async () => {
    let wanted = true;
    let attempts = 0;
    const given = retryWhileUnavailable(
      () => {
        attempts += 1;
        if (attempts === 2) wanted = false;
        return Promise.reject(new DomainError('STORE_UNAVAILABLE', 'away'));
      },
      () => wanted,
    );
    await expect(given).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    expect(attempts).toBe(2);
    const bug = retryWhileUnavailable(
      () => Promise.reject(new Error('a bug')),
      () => true,
    );
    await expect(bug).rejects.toThrow('a bug');
  });
});
