import { createHash } from 'node:crypto';
import { type Redis } from 'ioredis';
import { storeCommand } from './redis-unavailable.js';

/**
 * A Lua script run with EVALSHA, falling back to EVAL the first time a Redis has not seen it. Each
 * script is one atomic step: what makes a read-modify-write of the store safe across instances.
 * While Redis is away it fails with STORE_UNAVAILABLE, which the client is answered (503).
 */
export class RedisScript {
  private readonly sha: string;

  constructor(private readonly lua: string) {
    this.sha = createHash('sha1').update(lua).digest('hex');
  }

  run(redis: Redis, keys: string[], args: (string | number)[] = []): Promise<unknown> {
    return storeCommand(this.evaluate(redis, keys, args));
  }

  private async evaluate(
    redis: Redis,
    keys: string[],
    args: (string | number)[],
  ): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      // A Redis restarted since, or never asked before, has not cached the script.
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return redis.eval(this.lua, keys.length, ...keys, ...args);
    }
  }
}

/** Lua: Redis's own clock in ms, the one clock every instance shares for id sequences. */
export const LUA_NOW = `
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function fmt(n) return string.format('%.0f', n) end
`;
