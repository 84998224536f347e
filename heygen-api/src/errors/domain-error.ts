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

/**
 * Where jobs are kept (Redis, with JOBS_DRIVER=redis) cannot be reached or does not answer in
 * time: nothing the client did, and it passes (docs/deployment.md, "When Redis is away").
 */
export const storeUnavailable = (): DomainError =>
  new DomainError('STORE_UNAVAILABLE', 'The job store is unavailable; try again shortly', 1);

/** A request without a valid API key, wherever it is found (auth/, http/first-answers.ts). */
export const unauthorized = (): DomainError =>
  new DomainError('UNAUTHORIZED', 'A valid API key is required: Authorization: Bearer <key>');
