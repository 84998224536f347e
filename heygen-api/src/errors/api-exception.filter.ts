import {
  Catch,
  HttpException,
  HttpStatus,
  Logger,
  type ArgumentsHost,
  type ExceptionFilter,
} from '@nestjs/common';
import { type Request, type Response } from 'express';
import { STATUS_CODES } from 'node:http';
import { DomainError } from './domain-error.js';
import { CODE_TO_STATUS, type ErrorCode } from './error-code.js';

/**
 * Codes for errors that Nest or Express raise themselves, by HTTP status: an unknown route, and a
 * request Express rejects before any of ours sees it. Bodies and keys are checked by our own
 * guards, which throw DomainErrors.
 */
const STATUS_TO_CODE: Partial<Record<number, ErrorCode>> = {
  400: 'INVALID_BODY',
  404: 'NOT_FOUND',
};

/** Turns every error into the protocol's JSON body: {statusCode, error, code, message}. */
@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('ApiExceptionFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    const req = host.switchToHttp().getRequest<Request>();
    const { code, message, retryAfterSeconds } = this.describe(exception);
    const statusCode = CODE_TO_STATUS[code];
    if (res.headersSent) {
      // A stream that already started cannot carry a JSON error: cut it, the client resumes.
      res.destroy();
      return;
    }
    if (retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(retryAfterSeconds));
    // A request refused before its body was read (too large, not JSON, no key): Node would read and
    // discard the rest of it to keep the connection, for as long as the sender cares to send.
    // Closing it after the answer costs the sender a new connection instead (issue 18).
    if (bodyLeftUnread(req)) res.setHeader('Connection', 'close');
    res.status(statusCode).json({ statusCode, error: STATUS_CODES[statusCode], code, message });
  }

  private describe(exception: unknown): {
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
    if (exception instanceof HttpException && exception.cause instanceof URIError) {
      // Express could not percent-decode a path parameter; the only ones are job ids.
      return {
        code: 'INVALID_JOB_ID',
        message: 'The job id in the path is not valid percent-encoding',
      };
    }
    if (exception instanceof HttpException) {
      const code = STATUS_TO_CODE[exception.getStatus()];
      if (code) return { code, message: httpExceptionMessage(exception) };
    }
    this.logger.error('Unexpected error', exception instanceof Error ? exception.stack : exception);
    return { code: 'INTERNAL_ERROR', message: 'Internal server error' };
  }
}

/** A request that declares a body not yet received in full. */
function bodyLeftUnread(req: Request): boolean {
  const declared =
    req.headers['transfer-encoding'] !== undefined ||
    Number(req.headers['content-length'] ?? 0) > 0;
  return declared && !req.complete;
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
