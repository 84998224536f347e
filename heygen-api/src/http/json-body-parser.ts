import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { json, type Request, type RequestHandler, type Response } from 'express';
import { AppConfig } from '../config/app-config.js';
import { DomainError } from '../errors/domain-error.js';

/** Keys that would reach an object's prototype; no request body has a use for them. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Parses the JSON request body into `req.body`, and refuses a body that is not JSON, too large or
 * malformed. A guard by mechanism only, registered right after the API-key guard: Nest runs guards
 * in order, so an unauthenticated request is refused before its body is read. Not middleware,
 * which runs before every guard; not an interceptor, because a global interceptor puts every
 * request through an RxJS pipeline (issue 6: it cost throughput).
 */
@Injectable()
export class JsonBodyParser implements CanActivate {
  private readonly parse: RequestHandler;

  constructor(@Inject(AppConfig) config: AppConfig) {
    this.parse = json({
      limit: config.maxBodyBytes,
      strict: true,
      // Matches every request with a body: anything but JSON is refused below, not skipped.
      type: () => true,
      reviver: (key, value: unknown) => {
        if (FORBIDDEN_KEYS.has(key))
          throw new SyntaxError(`Unknown property ${JSON.stringify(key)}`);
        return value;
      },
    });
  }

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const http = context.switchToHttp();
    const req = http.getRequest<Request>();
    const hasBody =
      req.headers['transfer-encoding'] !== undefined ||
      Number(req.headers['content-length'] ?? 0) > 0;
    if (!hasBody) return true;
    if (!req.is('application/json')) {
      throw new DomainError(
        'UNSUPPORTED_MEDIA_TYPE',
        'A request body must be JSON (Content-Type: application/json)',
      );
    }
    return new Promise<boolean>((resolve, reject) => {
      this.parse(req, http.getResponse<Response>(), (error?: unknown) =>
        error ? reject(toDomainError(error)) : resolve(true),
      );
    });
  }
}

function toDomainError(error: unknown): DomainError {
  const { type, message } = error as { type?: string; message?: string };
  if (type === 'entity.too.large') {
    return new DomainError('PAYLOAD_TOO_LARGE', 'The request body is too large');
  }
  if (type === 'encoding.unsupported' || type === 'charset.unsupported') {
    return new DomainError('UNSUPPORTED_MEDIA_TYPE', message ?? 'Unsupported body encoding');
  }
  return new DomainError(
    'INVALID_BODY',
    `The request body is not valid JSON: ${message ?? 'unreadable'}`,
  );
}
