import { SetMetadata } from '@nestjs/common';

/**
 * What a route is to the rate limits: creating a job, `GET /status` (a stream, a batch or a
 * catch-up) or `GET /status/:id` (one job).
 */
export type RateLimitedRoute = 'create' | 'status' | 'job';

export const RATE_LIMITED_ROUTE = 'heygen:rateLimitedRoute';

/**
 * Marks a handler the rate limits count (rate-limit.guard.ts). A `GET /status` that asks for an
 * event stream counts as a stream opened (its `HEAD` opens none); a batch or a job's status with
 * `Prefer: wait` or `?wait=` counts as a held wait (a catch-up is never held); a JSON `GET /status`
 * without `ids`, the list of all the client's jobs, counts as a list (and as a held wait if held);
 * a plain poll is not rate limited (its cost is bounded by the poll hint and MAX_BATCH_IDS).
 */
export const RateLimited = (route: RateLimitedRoute): MethodDecorator =>
  SetMetadata(RATE_LIMITED_ROUTE, route);
