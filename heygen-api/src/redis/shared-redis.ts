/**
 * The injection token of the redis driver's RedisConnections, for features outside the driver
 * (the rate limits) that share its connection. A token of its own, so that injecting it optionally
 * never loads ioredis under the memory driver.
 */
export const SHARED_REDIS = Symbol('heygen.sharedRedis');
