import { randomUUID } from 'node:crypto';
import { type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type Logger } from 'pino';
import { pinoHttp } from 'pino-http';
import proxyAddr from 'proxy-addr';
import { type TrustProxy } from '../config/app-config.js';
import { refusalAnswering } from '../http/client-error.js';
import { trustFunction } from '../http/trust-proxy.js';
import { loggableUrl } from './redact.js';

/** An `X-Request-Id` a client or a proxy sent is kept if it is short and printable. */
const REQUEST_ID = /^[\x21-\x7e]{1,128}$/;

/** Express rewrites `url` under a mounted router and keeps the request's own in `originalUrl`. */
type ExpressRequest = IncomingMessage & { originalUrl?: string };

/**
 * The status the client was sent: the response's, or the refusal Node's parser wrote in its place
 * (a body too slow, 408); none when the connection closed first (a client that left a held wait).
 * A response not sent still says 200 (review of 2026-12-01: both were logged as 200s).
 */
const statusSent = (res: ServerResponse): number | undefined =>
  res.headersSent ? res.statusCode : refusalAnswering(res);

/**
 * Gives every request an id and, at LOG_LEVEL info or below, one log line when it ends (issue 13).
 * Its `remoteAddress` is the client's as TRUST_PROXY says, the address the rate limits count.
 * The id is the request's `X-Request-Id` when it has a usable one (a proxy's, so both logs join),
 * else a new UUID, and is echoed in the response's `X-Request-Id`. Installed on Node's server
 * ahead of the framework, so Express and Fastify log alike, and a request refused by a guard or
 * answered 404 is logged too. An event stream's line is written when the stream ends.
 */
export function installRequestLog(
  server: Server,
  logger: Logger,
  trustProxy: TrustProxy = false,
): void {
  const trust = trustFunction(trustProxy);
  const accessLog = logger.isLevelEnabled('info')
    ? pinoHttp({
        logger: logger.child({ context: 'http' }),
        quietReqLogger: true,
        // Only what an operator needs: no headers, so no Authorization and no cookies.
        serializers: {
          req: (req: { id: string; method: string; url: string; raw: IncomingMessage }) => ({
            id: req.id,
            method: req.method,
            url: loggableUrl(req.url),
            remoteAddress: proxyAddr(req.raw, trust),
          }),
          res: (res: { raw: ServerResponse }) => ({ statusCode: statusSent(res.raw) ?? null }),
        },
        customLogLevel: (_req, res) => ((statusSent(res) ?? 0) >= 500 ? 'error' : 'info'),
        customSuccessMessage: (req: ExpressRequest, res) =>
          `${req.method} ${loggableUrl(req.originalUrl ?? req.url ?? '')} ${
            statusSent(res) ?? 'no answer: the connection closed first'
          }`,
      })
    : undefined;

  server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => {
    const sent = req.headers['x-request-id'];
    // pino-http takes `req.id` as the request's id when it is set.
    const id = typeof sent === 'string' && REQUEST_ID.test(sent) ? sent : randomUUID();
    req.id = id;
    res.setHeader('X-Request-Id', id);
    accessLog?.(req, res);
  });
}
