import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { timingSafeEqual } from 'node:crypto';
import { type IncomingHttpHeaders } from 'node:http';
import { AppConfig, digestApiKey } from '../config/app-config.js';
import { CLIENT_SCOPE } from '../domain/client.js';
import { DomainError } from '../errors/domain-error.js';
import { prefersEventStream } from '../http/accept.js';
import { IS_PUBLIC } from './public.decorator.js';

/**
 * When API_KEYS is set, every route but the public ones needs `Authorization: Bearer <key>`; the
 * event stream may carry it as `?access_token=`, since a browser EventSource cannot send headers.
 * The key a request presents scopes its client (domain/client.ts): the scope is the start of the
 * key's digest, so neither memory nor logs ever hold a key.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  private readonly keys: readonly Buffer[];
  private readonly scopes: readonly string[];

  constructor(
    @Inject(AppConfig) config: AppConfig,
    @Inject(Reflector) private readonly reflector: Reflector,
  ) {
    this.keys = config.apiKeyDigests;
    this.scopes = this.keys.map((digest) => digest.subarray(0, 8).toString('hex'));
  }

  canActivate(context: ExecutionContext): boolean {
    if (this.keys.length === 0) return true;
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (isPublic) return true;
    const req = context.switchToHttp().getRequest<ClientRequest>();
    const key = presentedKey(req);
    if (key !== undefined) {
      const digest = digestApiKey(key);
      // Comparing digests in constant time: neither the key nor its length leaks through timing.
      const scope = this.scopes[this.keys.findIndex((known) => timingSafeEqual(known, digest))];
      if (scope !== undefined) {
        req[CLIENT_SCOPE] = scope;
        return true;
      }
    }
    throw new DomainError(
      'UNAUTHORIZED',
      'A valid API key is required: Authorization: Bearer <key>',
    );
  }
}

/** What the guard reads of a request, the same under Express and Fastify. */
interface ClientRequest {
  headers: IncomingHttpHeaders;
  query: Record<string, unknown>;
  [CLIENT_SCOPE]?: string;
}

function presentedKey(req: ClientRequest): string | undefined {
  const header = req.headers.authorization;
  // [RFC 9110 §11.1] the scheme name is case-insensitive.
  const bearer = header && /^bearer\s+(.+)$/i.exec(header);
  if (bearer) return bearer[1]!.trim();
  const token: unknown = req.query.access_token;
  return prefersEventStream(req.headers.accept) && typeof token === 'string' ? token : undefined;
}
