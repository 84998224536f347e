import { HealthIndicatorService } from '@nestjs/terminus';
import { describe, expect, it, onTestFinished } from 'vitest';
import { connectTestRedis, useTestRedis } from '../../test/support/redis-server.js';
import { RedisHealthIndicator } from './redis.health.js';

const redis = useTestRedis();

const worker = { workerRunning: true, workerWanted: true, running: 0 };

describe(RedisHealthIndicator.name, () => {
  it('should report Redis down while its memory is full, though it answers a PING (review of 2026-12-01)', async () => {
    const { connections } = await connectTestRedis(redis);
    const sut = new RedisHealthIndicator(new HealthIndicatorService(), connections, worker);
    expect((await sut.check()).redis.status).toBe('up');

    const { command } = connections;
    await command.config('SET', 'maxmemory-policy', 'noeviction');
    await command.config('SET', 'maxmemory', '1');
    onTestFinished(async () => {
      await command.config('SET', 'maxmemory', '0');
    });
    expect(await command.ping()).toBe('PONG');

    const full = (await sut.check()).redis;
    expect(full.status).toBe('down');
    expect(String(full.reason)).toMatch(/OOM/);

    await command.config('SET', 'maxmemory', '0');
    expect((await sut.check()).redis.status).toBe('up');
  });
});
