import { type NextFunction, type Request, type Response } from 'express';
import { DomainError } from '../errors/domain-error.js';

/**
 * A request body must be JSON: anything else would be silently ignored by the JSON parser, and a
 * client that sends it surely meant something else (415).
 */
export function requireJsonBody(req: Request, _res: Response, next: NextFunction): void {
  const hasBody =
    req.headers['transfer-encoding'] !== undefined ||
    Number(req.headers['content-length'] ?? 0) > 0;
  if (hasBody && !req.is('application/json')) {
    next(
      new DomainError(
        'UNSUPPORTED_MEDIA_TYPE',
        'A request body must be JSON (Content-Type: application/json)',
      ),
    );
    return;
  }
  next();
}
