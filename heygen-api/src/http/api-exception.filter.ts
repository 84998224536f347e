import {
  Catch,
  HttpException,
  HttpStatus,
  Logger,
  ServiceUnavailableException,
  type ArgumentsHost,
  type ExceptionFilter,
} from '@nestjs/common';
import { type ServerResponse, STATUS_CODES } from 'node:http';
import { rawRequest, takeOverResponse } from './raw.js';
import { DomainError } from '../errors/domain-error.js';
import { CODE_TO_STATUS, type ErrorCode } from '../errors/error-code.js';
import { bodyLeftUnread } from './unread-body.js';

/**
 * Codes for errors that Nest or the HTTP adapter raise themselves, by HTTP status: an unknown
 * route, and a request Express or Fastify rejects before any of ours sees it. Bodies and keys are
 * checked by our own guards, which throw DomainErrors.
 */
const STATUS_TO_CODE: Partial<Record<number, ErrorCode>> = {
  400: 'INVALID_BODY',
  404: 'NOT_FOUND',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
};

/** Fastify's own errors (`FST_ERR_…`) carry their status; Nest's are HttpExceptions. */
interface FastifyError extends Error {
  code: string;
  statusCode: number;
}

/** Unexpected errors are logged under this name; what the client sees says nothing of them. */
const logger = new Logger('ApiExceptionFilter');

/**
 * Turns every error into the protocol's JSON body: {statusCode, error, code, message}. It writes
 * to Node's response under either adapter, so that both answer the same bytes.
 */
@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    answerWithError(exception, http.getRequest<object>(), http.getResponse<object>());
  }
}

/**
 * Answers `exception` as the protocol's JSON error. Also Fastify's `frameworkErrors` handler
 * (app.factory.ts): what its router refuses before Nest sees the request (a path that cannot be
 * decoded) gets the same shape as everything else.
 */
export function answerWithError(exception: unknown, request: object, response: object): void {
  const req = rawRequest(request);
  const res = takeOverResponse(response);
  const health = failedHealthCheck(exception);
  if (health && !res.headersSent) return writeJson(res, HttpStatus.SERVICE_UNAVAILABLE, health);
  const { code, message, retryAfterSeconds } = describe(exception);
  const statusCode = CODE_TO_STATUS[code];
  if (res.headersSent) {
    // A stream that already started cannot carry a JSON error: cut it, the client resumes.
    res.destroy();
    return;
  }
  if (retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(retryAfterSeconds));
  // A request refused before its body was read (too large, not JSON, no key): closing the
  // connection after the answer costs the sender a new connection, not the server the body.
  if (bodyLeftUnread(req)) res.setHeader('Connection', 'close');
  writeJson(res, statusCode, { statusCode, error: STATUS_CODES[statusCode], code, message });
}

function writeJson(res: ServerResponse, statusCode: number, value: object): void {
  const body = JSON.stringify(value);
  res.statusCode = statusCode;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
}

/**
 * A failed /health check: @nestjs/terminus throws its report (`{status: 'error', info, error,
 * details}`), which is the answer, with 503 (docs/protocol.md, "Health and docs").
 */
function failedHealthCheck(exception: unknown): object | undefined {
  if (!(exception instanceof ServiceUnavailableException)) return undefined;
  const report = exception.getResponse();
  return typeof report === 'object' && 'details' in report ? report : undefined;
}

function describe(exception: unknown): {
  code: ErrorCode;
  message: string;
  retryAfterSeconds?: number;
} {
  if (exception instanceof DomainError) {
    return {
      code: exception.code,
      message: exception.message,
      ...(exception.retryAfterSeconds !== undefined && {
        retryAfterSeconds: exception.retryAfterSeconds,
      }),
    };
  }
  if (
    (exception instanceof HttpException && exception.cause instanceof URIError) ||
    (isFastifyError(exception) && exception.code === 'FST_ERR_BAD_URL')
  ) {
    // FirstAnswers refuses a path that cannot be percent-decoded before routing; should a router
    // still find one it cannot decode, no route has it.
    return { code: 'NOT_FOUND', message: 'No such route: the path is not valid percent-encoding' };
  }
  if (exception instanceof HttpException && exception.getStatus() === 403) {
    // Only a static file server refuses so (@fastify/static, for `/docs/../…`): there is no route.
    return { code: 'NOT_FOUND', message: 'No such route' };
  }
  if (exception instanceof HttpException && exception.getStatus() === 404) {
    // The router's `Cannot GET /path?query` would echo the query: an access_token, a uuid.
    return { code: 'NOT_FOUND', message: httpExceptionMessage(exception).replace(/[?#]\S*/, '') };
  }
  if (exception instanceof HttpException) {
    const code = STATUS_TO_CODE[exception.getStatus()];
    if (code) return { code, message: httpExceptionMessage(exception) };
  }
  if (isFastifyError(exception)) {
    const code = STATUS_TO_CODE[exception.statusCode];
    if (code) return { code, message: exception.message };
  }
  logger.error('Unexpected error', exception instanceof Error ? exception.stack : exception);
  return { code: 'INTERNAL_ERROR', message: 'Internal server error' };
}

function isFastifyError(exception: unknown): exception is FastifyError {
  return (
    exception instanceof Error &&
    typeof (exception as Partial<FastifyError>).code === 'string' &&
    (exception as FastifyError).code.startsWith('FST_') &&
    typeof (exception as Partial<FastifyError>).statusCode === 'number'
  );
}

function httpExceptionMessage(exception: HttpException): string {
  const body = exception.getResponse();
  if (typeof body === 'object' && 'message' in body) {
    const { message } = body;
    if (Array.isArray(message)) return message.join('; ');
    if (typeof message === 'string') return message;
  }
  return (
    exception.message || (STATUS_CODES[exception.getStatus()] ?? String(HttpStatus.BAD_REQUEST))
  );
}
