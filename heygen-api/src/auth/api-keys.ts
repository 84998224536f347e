import { Inject, Injectable } from '@nestjs/common';
import { timingSafeEqual } from 'node:crypto';
import { type IncomingHttpHeaders } from 'node:http';
import { AppConfig, digestApiKey } from '../config/app-config.js';
import { prefersEventStream } from '../http/accept.js';

/** What is read of a request to find its key, the same under Express and Fastify. */
export interface KeyedRequest {
  headers: IncomingHttpHeaders;
  /** Absent where nothing parsed the query (a request refused before routing). */
  query?: Record<string, unknown>;
}

/**
 * The API keys of API_KEYS (docs/protocol.md, "API keys"): which key a request presents, and the
 * client scope it gives. ApiKeyGuard checks routes with it; FirstAnswers (http/first-answers.ts)
 * checks a request refused before routing with it, so that the key still comes first.
 */
@Injectable()
export class ApiKeys {
  private readonly digests: readonly Buffer[];
  private readonly scopes: readonly string[];

  constructor(@Inject(AppConfig) config: AppConfig) {
    this.digests = config.apiKeyDigests;
    // The scope is the start of the key's digest, so neither memory nor logs ever hold a key.
    this.scopes = this.digests.map((digest) => digest.subarray(0, 8).toString('hex'));
  }

  /** API_KEYS is set: requests other than to public routes need a key. */
  get required(): boolean {
    return this.digests.length > 0;
  }

  /**
   * The client scope of the valid key `req` presents; undefined when it presents none that is.
   * @param queryKey - the route takes the stream's `?access_token=` (AcceptsQueryKey)
   */
  scopeOf(req: KeyedRequest, queryKey = false): string | undefined {
    const key = presentedKey(req, queryKey);
    if (key === undefined) return undefined;
    const digest = digestApiKey(key);
    // Comparing digests in constant time: neither the key nor its length leaks through timing.
    return this.scopes[this.digests.findIndex((known) => timingSafeEqual(known, digest))];
  }
}

function presentedKey(req: KeyedRequest, queryKey: boolean): string | undefined {
  const header = req.headers.authorization;
  // [RFC 9110 §11.1] the scheme name is case-insensitive.
  const bearer = header && /^bearer\s+(.+)$/i.exec(header);
  if (bearer) return bearer[1]!.trim();
  // The event stream may carry it as `?access_token=`: a browser EventSource cannot send headers.
  if (!queryKey || !prefersEventStream(req.headers.accept)) return undefined;
  const token: unknown = req.query?.access_token;
  return typeof token === 'string' ? token : undefined;
}
