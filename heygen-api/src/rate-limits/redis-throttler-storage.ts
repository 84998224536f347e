import { type ThrottlerStorage } from '@nestjs/throttler';
import { type RedisConnections } from '../redis/redis-connections.js';
import { RedisScript } from '../redis/redis-script.js';

type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

/**
 * One fixed window per key: the first hit starts it with the window's TTL, later hits count in it.
 * Atomic, so instances sharing the Redis count one budget (issue 13: limits across a deployment).
 */
const HIT = new RedisScript(`
local hits = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if hits == 1 or ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {hits, ttl}
`);

/**
 * The rate limits' counters in Redis, with the redis driver: every instance counts the same
 * requests. No package keeps this for NestJS 12 (`@nest-lab/throttler-storage-redis` stops at 11),
 * and the one script it takes sits on the driver's own connection.
 */
export class RedisThrottlerStorage implements ThrottlerStorage {
  constructor(private readonly redis: RedisConnections) {}

  async increment(key: string, ttl: number, limit: number): Promise<ThrottlerStorageRecord> {
    const [hits, remainingMs] = (await HIT.run(
      this.redis.command,
      [`${this.redis.prefix}ratelimit:${key}`],
      [ttl],
    )) as [number, number];
    const seconds = Math.max(1, Math.ceil(remainingMs / 1000));
    return {
      totalHits: hits,
      timeToExpire: seconds,
      isBlocked: hits > limit,
      timeToBlockExpire: hits > limit ? seconds : 0,
    };
  }
}
