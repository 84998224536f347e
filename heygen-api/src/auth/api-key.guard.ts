import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { type Request } from 'express';
import { createHash, timingSafeEqual } from 'node:crypto';
import { AppConfig } from '../config/app-config.js';
import { DomainError } from '../errors/domain-error.js';
import { IS_PUBLIC } from './public.decorator.js';

const digest = (key: string): Buffer => createHash('sha256').update(key).digest();

/**
 * When API_KEYS is set, every route but the public ones needs `Authorization: Bearer <key>`; the
 * event stream may carry it as `?access_token=`, since a browser EventSource cannot send headers.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  private readonly keys: Buffer[];

  constructor(
    @Inject(AppConfig) config: AppConfig,
    @Inject(Reflector) private readonly reflector: Reflector,
  ) {
    this.keys = config.apiKeys.map(digest);
  }

  canActivate(context: ExecutionContext): boolean {
    if (this.keys.length === 0) return true;
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (isPublic) return true;
    const key = presentedKey(context.switchToHttp().getRequest<Request>());
    // Comparing digests in constant time: neither the key nor its length leaks through timing.
    if (key !== undefined && this.keys.some((known) => timingSafeEqual(known, digest(key)))) {
      return true;
    }
    throw new DomainError(
      'UNAUTHORIZED',
      'A valid API key is required: Authorization: Bearer <key>',
    );
  }
}

function presentedKey(req: Request): string | undefined {
  const header = req.headers.authorization;
  // [RFC 9110 §11.1] the scheme name is case-insensitive.
  const bearer = header && /^bearer\s+(.+)$/i.exec(header);
  if (bearer) return bearer[1]!.trim();
  const wantsStream =
    req.accepts(['application/json', 'text/event-stream']) === 'text/event-stream';
  const token: unknown = req.query.access_token;
  return wantsStream && typeof token === 'string' ? token : undefined;
}
