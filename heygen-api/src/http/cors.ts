import { type IncomingMessage, type ServerResponse } from 'node:http';
import { bodyLeftUnread } from './unread-body.js';

/** Headers a browser script may read: the poll hint most of all. */
const EXPOSED_HEADERS = [
  'Location',
  'X-Request-Id',
  'X-Next-Poll-Ms',
  'Idempotent-Replayed',
  'Retry-After',
  'Preference-Applied',
  'X-Replay-Window',
];
/** Headers a browser script may send: `Prefer` asks for a held wait. */
const ALLOWED_HEADERS = [
  'Authorization',
  'Cancel-After',
  'Content-Type',
  'Idempotency-Key',
  'Last-Event-ID',
  'Prefer',
  'X-Request-Id',
];
/** Every method a route of ours answers (FirstAnswers answers any other 404). */
export const ROUTE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'POST']);
/** How long a browser may reuse a preflight's answer, in seconds. */
const PREFLIGHT_MAX_AGE_S = 600;

/**
 * CORS (docs/protocol.md, "CORS"), the same on both adapters. It works on Node's own request and
 * response, whichever framework runs, with every header value built once: `app.enableCors()` on
 * Fastify (`@fastify/cors`, then Nest copying its headers to the raw response) merged two option
 * objects, read `routeOptions` twice and joined the header lists again on every request, 13 % of
 * a status poll's CPU (docs/design.md, "CORS without a plugin").
 *
 * `origins` is `true` for any origin (answered `*`), or the list to echo back; any other origin
 * gets no `Access-Control-Allow-Origin`, so its browser refuses the answer.
 */
export class CorsPolicy {
  private readonly allowed: ReadonlySet<string> | undefined;
  private readonly exposed = EXPOSED_HEADERS.join(', ');
  private readonly preflight = {
    'Access-Control-Allow-Methods': [...ROUTE_METHODS].join(', '),
    'Access-Control-Allow-Headers': ALLOWED_HEADERS.join(', '),
    'Access-Control-Max-Age': String(PREFLIGHT_MAX_AGE_S),
    'Content-Length': '0',
  };

  constructor(origins: true | readonly string[]) {
    this.allowed = origins === true ? undefined : new Set(origins);
  }

  /**
   * Puts the CORS headers on `res`, and answers a preflight (any `OPTIONS` request: no route of
   * ours takes one) with `204`. Returns whether it answered, in which case the framework must not.
   */
  apply(req: IncomingMessage, res: ServerResponse): boolean {
    if (this.allowed === undefined) {
      res.setHeader('Access-Control-Allow-Origin', '*');
    } else {
      // The answer depends on the Origin: a cache must keep one per origin.
      res.setHeader('Vary', 'Origin');
      const origin = req.headers.origin;
      if (origin !== undefined && this.allowed.has(origin)) {
        res.setHeader('Access-Control-Allow-Origin', origin);
      }
    }
    res.setHeader('Access-Control-Expose-Headers', this.exposed);
    if (req.method !== 'OPTIONS') return false;
    // A preflight has no body: one declared is never read, so the connection ends with the answer.
    if (bodyLeftUnread(req)) res.setHeader('Connection', 'close');
    res.writeHead(204, this.preflight).end();
    return true;
  }
}
