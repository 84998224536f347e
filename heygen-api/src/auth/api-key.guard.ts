import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { CLIENT_SCOPE } from '../domain/client.js';
import { unauthorized } from '../errors/domain-error.js';
import { ApiKeys, type KeyedRequest } from './api-keys.js';
import { IS_PUBLIC } from './public.decorator.js';
import { QUERY_KEY } from './query-key.decorator.js';

/**
 * When API_KEYS is set, every route but the public ones needs `Authorization: Bearer <key>`; the
 * event stream may carry it as `?access_token=`, since a browser EventSource cannot send headers.
 * The key a request presents scopes its client (domain/client.ts).
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    @Inject(ApiKeys) private readonly keys: ApiKeys,
    @Inject(Reflector) private readonly reflector: Reflector,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    if (!this.keys.required) return true;
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (isPublic) return true;
    const req = context.switchToHttp().getRequest<KeyedRequest & { [CLIENT_SCOPE]?: string }>();
    const queryKey = this.reflector.get<boolean | undefined>(QUERY_KEY, context.getHandler());
    const scope = this.keys.scopeOf(req, queryKey === true);
    if (scope === undefined) throw unauthorized();
    req[CLIENT_SCOPE] = scope;
    return true;
  }
}
