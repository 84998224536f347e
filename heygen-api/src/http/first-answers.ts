import { type IncomingMessage, type ServerResponse } from 'node:http';
import { DomainError, unauthorized } from '../errors/domain-error.js';
import { answerWithError } from './api-exception.filter.js';
import { ROUTE_METHODS, type CorsPolicy } from './cors.js';
import { percentDecoded } from './percent-decoding.js';

/** What FirstAnswers needs of the API keys (auth/api-keys.ts): whether a request has a valid one. */
export interface KeyCheck {
  readonly required: boolean;
  /** The client scope of the valid key the request presents, else undefined. */
  scopeOf(req: IncomingMessage): string | undefined;
}

/** An escape of an unreserved character [RFC 3986 §2.3]: `%61` for `a`. */
const ESCAPE = /%([0-9A-Fa-f]{2})/g;
const UNRESERVED = /^[A-Za-z0-9\-._~]$/;

/** The job id segment of a job route: `/status/:id`, `/status/:id/deliveries…`, `/cancel/:id`. */
const JOB_ID_SEGMENT = /^\/(?:status|cancel)\/([^/?#]*)/i;

/**
 * What every request gets before any route sees it, the same on both adapters (a Fastify
 * `onRequest` hook and its `frameworkErrors`, or the first Express middleware; app.factory.ts):
 *
 * - the CORS headers, and a preflight answered (CorsPolicy);
 * - a method no route takes (`PUT`, `QUERY`…) answered `404 NOT_FOUND`. Fastify would first check
 *   the body such a method may carry, and answer 400 or 415 where Express answers 404;
 * - an HTTP/1.1 request with no `Host` refused, `400 BAD_REQUEST` [RFC 9112 §3.2]. Node's own
 *   check is turned off: it answered with no body, no request id and no CORS;
 * - escapes of unreserved characters in the path decoded (`/st%61tus` is `/status`), as Fastify's
 *   router does before any hook;
 * - a path that cannot be percent-decoded (`/status/%ZZ`) refused. Fastify's router refuses any
 *   such path before its hooks, Express's only a bad parameter, so the same path got 400 on one and
 *   404 on the other, with no CORS on Fastify and before the API key on both. A bad escape in a job
 *   route's id is `400 INVALID_JOB_ID`, after the key like anything else about a job request;
 *   anywhere else the path names no route, `404 NOT_FOUND`, as an unknown path does.
 */
export class FirstAnswers {
  /** The requests answered here, before any route: the metrics count them as `unmatched`. */
  private static readonly answered = new WeakSet<IncomingMessage>();

  /** Whether `req` was answered here, before the framework routed it. */
  static answeredFirst(req: IncomingMessage): boolean {
    return FirstAnswers.answered.has(req);
  }

  constructor(
    private readonly cors: CorsPolicy,
    private readonly keys: KeyCheck,
  ) {}

  /** Returns whether it answered, in which case the framework must not. */
  apply(req: IncomingMessage, res: ServerResponse): boolean {
    if (!this.answer(req, res)) return false;
    FirstAnswers.answered.add(req);
    return true;
  }

  private answer(req: IncomingMessage, res: ServerResponse): boolean {
    // Only a path that decodes: a malformed one (`%%33%31`) would be made a valid one here, and
    // is refused below as it was sent.
    if (req.url?.includes('%') && decodes(pathOf(req.url))) {
      req.url = withUnreservedDecoded(req.url);
    }
    if (this.cors.apply(req, res)) return true;
    let refusal: DomainError | undefined;
    if (req.headers.host === undefined && req.httpVersion === '1.1') {
      refusal = new DomainError('BAD_REQUEST', 'An HTTP/1.1 request must carry a Host header');
      // As Node closes it: a request that is not valid HTTP/1.1 ends its connection.
      res.setHeader('Connection', 'close');
    } else if (!ROUTE_METHODS.has(req.method ?? '')) {
      refusal = new DomainError('NOT_FOUND', `Cannot ${req.method} ${pathOf(req.url ?? '/')}`);
    } else if (this.keys.required && isMalformedMediaType(req) && !this.keys.scopeOf(req)) {
      // Fastify refuses a Content-Type that is no media type (415) before any guard runs.
      refusal = unauthorized();
    } else {
      refusal = this.undecodablePath(req);
    }
    if (refusal === undefined) return false;
    answerWithError(refusal, req, res);
    return true;
  }

  private undecodablePath(req: IncomingMessage): DomainError | undefined {
    const url = req.url ?? '/';
    // Only a path with an escape can fail to decode: the common path costs one search.
    if (!url.includes('%')) return undefined;
    const path = pathOf(url);
    if (decodes(path)) return undefined;
    const jobId = JOB_ID_SEGMENT.exec(path)?.[1];
    if (jobId === undefined || decodes(jobId)) {
      return new DomainError('NOT_FOUND', 'No such route: the path is not valid percent-encoding');
    }
    if (this.keys.required && this.keys.scopeOf(req) === undefined) return unauthorized();
    return new DomainError(
      'INVALID_JOB_ID',
      'The job id in the path is not valid percent-encoding',
    );
  }
}

/** `type/subtype`, parameters after a `;` [RFC 9110 §8.3.1]: tokens, nothing else. */
const MEDIA_TYPE = /^[\w!#$%&'*+.^`|~-]+\/[\w!#$%&'*+.^`|~-]+[ \t]*(;.*)?$/;

function isMalformedMediaType(req: IncomingMessage): boolean {
  const type = req.headers['content-type'];
  return type !== undefined && !MEDIA_TYPE.test(type);
}

/**
 * The request target with each escaped unreserved character in its path decoded, as RFC 3986
 * §6.2.2.2 makes them equal: Fastify's router decodes them, Express's did not, so `/st%61tus` was a
 * route on one and a 404 on the other (review of 2026-12-01). Reserved escapes (`%2F`) stay.
 */
function withUnreservedDecoded(url: string): string {
  const path = pathOf(url);
  const decoded = path.replace(ESCAPE, (escape, hex: string) => {
    const char = String.fromCharCode(parseInt(hex, 16));
    return UNRESERVED.test(char) ? char : escape;
  });
  return decoded + url.slice(path.length);
}

/** The path of a request target, without its query (which may carry a key) or fragment. */
function pathOf(url: string): string {
  const query = url.search(/[?#]/);
  return query === -1 ? url : url.slice(0, query);
}

function decodes(text: string): boolean {
  return percentDecoded(text) !== undefined;
}
