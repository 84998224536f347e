import { type ErrorCode } from './error-code.js';

/** A failure the client caused or must handle. Knows nothing about HTTP: the exception filter maps `code`. */
export class DomainError extends Error {
  override name = 'DomainError';

  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Seconds the client should wait before trying again (429, 503). */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

export const jobNotFound = (id: number): DomainError =>
  new DomainError('JOB_NOT_FOUND', `Job ${id} not found`);
