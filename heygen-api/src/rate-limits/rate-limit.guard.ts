import { Injectable, type ExecutionContext } from '@nestjs/common';
import { ThrottlerGuard, type ThrottlerLimitDetail } from '@nestjs/throttler';
import { type IncomingHttpHeaders } from 'node:http';
import { type RateLimitedKind } from '../config/app-config.js';
import { CLIENT_SCOPE, clientKey } from '../domain/client.js';
import { DomainError } from '../errors/domain-error.js';
import { prefersEventStream } from '../http/accept.js';
import { CLIENT_ID_SCHEMA } from '../http/client-id.decorator.js';
import { compileSchema } from '../http/validation.js';
import { parsePreferWait } from '../waits/prefer.js';
import { parseWaitQuery } from '../waits/wait-query.pipe.js';
import { addressKey } from '../http/address-key.js';
import { RATE_LIMITED_ROUTE, type RateLimitedRoute } from './rate-limited.decorator.js';

const isClientId = compileSchema<string>(CLIENT_ID_SCHEMA);

/** Where the guard leaves what a request counts as (none, one or two kinds), for `skipIf`. */
const KIND = Symbol('heygen.rateLimitedKind');

interface LimitedRequest {
  method: string;
  headers: IncomingHttpHeaders;
  query: Record<string, unknown>;
  ip: string;
  [CLIENT_SCOPE]?: string;
  [KIND]?: readonly RateLimitedKind[];
}

const requestOf = (context: ExecutionContext): LimitedRequest =>
  context.switchToHttp().getRequest<LimitedRequest>();

/** Whether a throttler counting `kind` applies to this request (rate-limits.module.ts). */
export const countsAs =
  (kind: RateLimitedKind) =>
  (context: ExecutionContext): boolean =>
    requestOf(context)[KIND]?.includes(kind) === true;

/**
 * The client a request names (its key's scope and its uuid), as the jobs it creates are counted;
 * a request with no valid uuid, which will be refused anyway, counts against its address (its
 * /64 for IPv6: http/address-key.ts).
 */
export const clientTracker = (req: Record<string, unknown>): string => {
  const { query, ip, [CLIENT_SCOPE]: scope } = req as unknown as LimitedRequest;
  const uuid = query.uuid;
  return isClientId(uuid)
    ? `client:${clientKey(uuid.toLowerCase(), scope)}`
    : `address:${addressKey(ip)}`;
};

/**
 * @nestjs/throttler's guard, run after the API key is checked and before the body is read, on the
 * routes marked `@RateLimited`. It works out once what the request counts as (a creation, a stream
 * opened, a held wait, a list of all the client's jobs) and answers a request past a limit
 * `429 RATE_LIMITED` with `Retry-After`, in the API's JSON error shape.
 */
@Injectable()
export class RateLimitGuard extends ThrottlerGuard {
  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const route = this.reflector.get<RateLimitedRoute | undefined>(
      RATE_LIMITED_ROUTE,
      context.getHandler(),
    );
    if (route === undefined) return true;
    const req = requestOf(context);
    req[KIND] = kindsOf(route, req);
    if (req[KIND].length === 0) return true;
    return super.canActivate(context);
  }

  protected override throwThrottlingException(
    context: ExecutionContext,
    { key, timeToBlockExpire }: ThrottlerLimitDetail,
  ): Promise<void> {
    // The key is `<kind>-<scope>:<tracker>` (rate-limits.module.ts): the limit that refused.
    const kind = requestOf(context)[KIND]?.find((counted) => key.startsWith(`${counted}-`));
    const what = kind === undefined ? 'requests' : WHAT[kind];
    throw new DomainError(
      'RATE_LIMITED',
      `Too many ${what}: try again in ${timeToBlockExpire} s`,
      Math.max(1, timeToBlockExpire),
    );
  }
}

/** What the message of a 429 says was too many. */
const WHAT: Record<RateLimitedKind, string> = {
  create: 'jobs created',
  stream: 'streams opened',
  wait: 'held waits',
  list: 'lists of all jobs',
};

/** What the request counts as, the way its controller will answer it (docs/protocol.md). */
function kindsOf(
  route: RateLimitedRoute,
  { method, headers, query }: LimitedRequest,
): RateLimitedKind[] {
  if (route === 'create') return ['create'];
  if (route === 'status' && prefersEventStream(headers.accept)) {
    // A HEAD of the stream answers its head and opens nothing; /status/:id is JSON whatever Accept.
    return method === 'HEAD' ? [] : ['stream'];
  }
  // A catch-up (`after`) is answered at once, `Prefer: wait` or not, and lists no job.
  if (route === 'status' && query.after !== undefined) return [];
  // The batch without `ids` lists every job the client has (up to MAX_JOBS_PER_CLIENT), held or
  // not, its HEAD too, and so does a page of it (`limit`, `startingAfter`), which reads them all
  // to answer a part: its cost is not bounded by MAX_BATCH_IDS as a poll's is.
  const kinds: RateLimitedKind[] = route === 'status' && query.ids === undefined ? ['list'] : [];
  // `?wait=` wins over `Prefer`, as in the controllers; a malformed one is refused after this.
  const wait =
    query.wait === undefined ? parsePreferWait(headers.prefer) : parseWaitQuery(query.wait);
  if (wait !== undefined && wait > 0) kinds.push('wait');
  return kinds;
}
