import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { type IncomingMessage } from 'node:http';
import { AppConfig } from '../config/app-config.js';
import { DomainError } from '../errors/domain-error.js';
import { rawRequest } from './raw.js';

/** Keys that would reach an object's prototype; no request body has a use for them. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

const tooLarge = (): DomainError =>
  new DomainError('PAYLOAD_TOO_LARGE', 'The request body is too large');
const unsupported = (message: string): DomainError =>
  new DomainError('UNSUPPORTED_MEDIA_TYPE', message);

/**
 * Parses the JSON request body into `req.body`, and refuses a body that is not JSON, too large or
 * malformed. A guard by mechanism only, registered right after the API-key guard: Nest runs guards
 * in order, so an unauthenticated request is refused before its body is read. Not middleware,
 * which runs before every guard; not an interceptor, because a global interceptor puts every
 * request through an RxJS pipeline (issue 6: it cost throughput).
 *
 * It reads the body itself rather than with body-parser (issue 18): a declared length over the
 * limit, or a declared body that is not JSON, is refused from the headers alone, before a byte of
 * it is read (body-parser read the whole body first, to the end of Node's request timeout); a
 * chunked body is refused the moment it passes the limit; and an empty chunked body is no body.
 * The exception filter closes a connection whose request body was left unread. It reads Node's
 * request under either adapter: Fastify is told to leave every body unread (app.factory.ts).
 */
@Injectable()
export class JsonBodyParser implements CanActivate {
  private readonly limit: number;

  constructor(@Inject(AppConfig) config: AppConfig) {
    this.limit = config.maxBodyBytes;
  }

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const request = context.switchToHttp().getRequest<{ body?: unknown }>();
    const req = rawRequest(request);
    if (req.headers['transfer-encoding'] === undefined) {
      // Node has already refused a malformed Content-Length.
      const length = Number(req.headers['content-length'] ?? 0);
      if (length === 0) return true;
      if (length > this.limit) throw tooLarge();
      checkMediaType(req);
    }
    return readBody(req, this.limit).then((body) => {
      // A chunked body may turn out empty: like Content-Length: 0, that is no body at all.
      if (body.length === 0) return true;
      checkMediaType(req);
      request.body = parseJson(body.toString('utf8'));
      return true;
    });
  }
}

/** JSON in UTF-8, not content-encoded: anything else is 415, whatever the body holds. */
function checkMediaType(req: IncomingMessage): void {
  if (!isJson(req.headers['content-type'])) {
    throw unsupported('A request body must be JSON (Content-Type: application/json)');
  }
  const charset = /;\s*charset\s*=\s*"?([^";\s]*)/i.exec(req.headers['content-type'] ?? '')?.[1];
  if (charset !== undefined && !/^utf-?8$/i.test(charset)) {
    throw unsupported(`Unsupported charset "${charset.toUpperCase()}": send UTF-8`);
  }
  const encoding = req.headers['content-encoding'];
  if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') {
    throw unsupported('A request body must not be content-encoded (Content-Encoding)');
  }
}

/** `application/json`, whatever its parameters and case, as Express's `req.is()` tells it. */
function isJson(contentType: string | undefined): boolean {
  return contentType?.split(';', 1)[0]!.trim().toLowerCase() === 'application/json';
}

/** Reads the whole body, refusing it as soon as it passes `limit` bytes. */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const settle = (error: DomainError | undefined): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onAbort);
      req.off('close', onAbort);
      if (error) {
        // Nothing more is read: the exception filter answers and closes the connection.
        req.pause();
        reject(error);
      } else {
        resolve(Buffer.concat(chunks, size));
      }
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) settle(tooLarge());
      else chunks.push(chunk);
    };
    const onEnd = (): void => settle(undefined);
    const onAbort = (): void =>
      settle(new DomainError('INVALID_BODY', 'The request body ended before it was complete'));
    if (req.destroyed) {
      onAbort();
      return;
    }
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onAbort);
    req.on('close', onAbort);
  });
}

/** Strict JSON: an object or an array, with no key that reaches a prototype. */
function parseJson(text: string): unknown {
  const first = /\S/.exec(text)?.[0];
  if (first !== '{' && first !== '[') {
    throw invalidJson(`expected an object, found ${first === undefined ? 'nothing' : 'a value'}`);
  }
  try {
    return JSON.parse(text, (key, value: unknown) => {
      if (FORBIDDEN_KEYS.has(key)) throw new SyntaxError(`Unknown property ${JSON.stringify(key)}`);
      return value;
    }) as unknown;
  } catch (error) {
    throw invalidJson((error as Error).message);
  }
}

const invalidJson = (detail: string): DomainError =>
  new DomainError('INVALID_BODY', `The request body is not valid JSON: ${detail}`);
