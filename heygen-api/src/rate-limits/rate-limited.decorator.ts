import { SetMetadata } from '@nestjs/common';

/** What a route is to the rate limits: creating a job, or reading status (a stream or a wait). */
export type RateLimitedRoute = 'create' | 'status';

export const RATE_LIMITED_ROUTE = 'heygen:rateLimitedRoute';

/**
 * Marks a handler the rate limits count (rate-limit.guard.ts). A `status` request counts as a
 * stream when it asks for an event stream and as a held wait when it sends `Prefer: wait`; a plain
 * poll is not rate limited (its cost is bounded by the poll hint and MAX_BATCH_IDS).
 */
export const RateLimited = (route: RateLimitedRoute): MethodDecorator =>
  SetMetadata(RATE_LIMITED_ROUTE, route);
