import { Module, type DynamicModule } from '@nestjs/common';
import { ThrottlerModule, type ThrottlerOptions } from '@nestjs/throttler';
import { AppConfig, type RateLimitedKind } from '../config/app-config.js';
import { type RedisConnections } from '../redis/redis-connections.js';
import { SHARED_REDIS } from '../redis/shared-redis.js';
import { addressTracker } from '../http/address-key.js';
import { clientTracker, countsAs } from './rate-limit.guard.js';
import { RedisThrottlerStorage } from './redis-throttler-storage.js';

/**
 * The throttlers RATE_LIMIT_* ask for: for each kind of request, one counting per client and one
 * per address, each only where its limit is set. Counters live in this process with the memory
 * driver and in Redis with the redis driver, so that a limit holds across instances.
 */
@Module({})
export class RateLimitsModule {
  static forRoot(): DynamicModule {
    return {
      module: RateLimitsModule,
      imports: [
        ThrottlerModule.forRootAsync({
          inject: [AppConfig, { token: SHARED_REDIS, optional: true }],
          useFactory: (config: AppConfig, redis: RedisConnections | undefined) => ({
            throttlers: throttlersOf(config),
            ...(redis !== undefined && { storage: new RedisThrottlerStorage(redis) }),
          }),
        }),
      ],
      exports: [ThrottlerModule],
    };
  }
}

function throttlersOf({ rateLimits, rateLimitWindowMs }: AppConfig): ThrottlerOptions[] {
  return Object.entries(rateLimits).flatMap(([kind, { perClient, perAddress }]) => {
    const skipIf = (context: Parameters<ReturnType<typeof countsAs>>[0]): boolean =>
      !countsAs(kind as RateLimitedKind)(context);
    // One budget per kind, whichever route the request took (a held wait on `/status/:id` and one
    // on `/status?ids=` count together): the key is the throttler and the tracker, not the handler.
    const generateKey = (_context: unknown, tracker: string, name: string): string =>
      `${name}:${tracker}`;
    const common = { ttl: rateLimitWindowMs, skipIf, generateKey };
    return [
      ...(perClient > 0
        ? [{ ...common, name: `${kind}-client`, limit: perClient, getTracker: clientTracker }]
        : []),
      // The address is the request's `ip` (the peer's, or X-Forwarded-For's under TRUST_PROXY),
      // an IPv6 one by its /64.
      ...(perAddress > 0
        ? [{ ...common, name: `${kind}-address`, limit: perAddress, getTracker: addressTracker }]
        : []),
    ];
  });
}
