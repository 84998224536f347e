import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { jobStub } from '../../test/support/fakes.js';
import { HeyGenError, isHeyGenError } from './heygen-error.js';
import { HttpError } from './http-error.js';
import { JobFailedError } from './job-failed-error.js';
import { JobNotFoundError } from './job-not-found-error.js';
import { SSEError } from './sse-error.js';

describe(isHeyGenError.name, () => {
  it('should accept every subclass by instanceof', () => {
    for (const error of [
      new SSEError('x'),
      new JobNotFoundError(1),
      new JobFailedError(jobStub(1, 'failed', 3)),
      new HttpError(500, 'x', 'INTERNAL_ERROR'),
    ]) {
      expect(isHeyGenError(error)).toBe(true);
      expect(error).toBeInstanceOf(HeyGenError);
    }
  });

  it('should accept a look-alike from another copy of the library by name and code', () => {
    const foreign = Object.assign(new Error('x'), { name: 'SSEError', code: 'SSE_ERROR' });
    expect(isHeyGenError(foreign)).toBe(true);
  });

  it('should accept the error of the heygen-lib/webhooks bundle, a copy of its own', () => {
    const fromWebhooks = Object.assign(new Error('x'), {
      name: 'WebhookVerificationError',
      code: 'WEBHOOK_VERIFICATION',
    });
    expect(isHeyGenError(fromWebhooks)).toBe(true);
  });

  it('should reject other errors, including ones with a string code', () => {
    expect(isHeyGenError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toBe(false);
    // A name of ours with a code that is not that class's, or with none.
    expect(
      isHeyGenError(Object.assign(new Error('x'), { name: 'SSEError', code: 'TIMEOUT' })),
    ).toBe(false);
    expect(isHeyGenError(Object.assign(new Error('x'), { name: 'HeyGenError' }))).toBe(false);
    expect(isHeyGenError(Object.assign(new Error('x'), { name: 'constructor', code: 'x' }))).toBe(
      false,
    );
    expect(isHeyGenError(new TypeError('x'))).toBe(false);
    expect(isHeyGenError('SSEError')).toBe(false);
  });

  it("should reject Node's own AbortError, whose code is not one of ours", async () => {
    const abort = new AbortController();
    const sleeping = sleep(60_000, undefined, { signal: abort.signal });
    abort.abort();
    const error = await sleeping.catch((error: unknown) => error);
    expect(error).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
    expect(isHeyGenError(error)).toBe(false);
  });

  it('should carry codes and context', () => {
    expect(new JobNotFoundError(4)).toMatchObject({
      code: 'JOB_NOT_FOUND',
      jobId: 4,
      name: 'JobNotFoundError',
    });
    expect(new HttpError(0, 'x').code).toBe('NETWORK_ERROR');
    expect(new HttpError(409, 'x', 'JOB_FINISHED')).toMatchObject({
      code: 'HTTP_ERROR',
      status: 409,
      serverCode: 'JOB_FINISHED',
    });
    const cause = new Error('root');
    expect(new SSEError('x', 0, cause).cause).toBe(cause);
  });

  it('should make instanceof hold for an error of another copy, class by class', () => {
    const notFound = Object.assign(new Error('x'), {
      name: 'JobNotFoundError',
      code: 'JOB_NOT_FOUND',
    });
    expect(notFound).toBeInstanceOf(JobNotFoundError);
    expect(notFound).toBeInstanceOf(HeyGenError);
    expect(notFound).not.toBeInstanceOf(HttpError);
    expect(notFound).not.toBeInstanceOf(SSEError);
    // Only a name and code that belong together.
    const wrongCode = Object.assign(new Error('x'), { name: 'JobNotFoundError', code: 'TIMEOUT' });
    expect(wrongCode).not.toBeInstanceOf(JobNotFoundError);
    expect(wrongCode).not.toBeInstanceOf(HeyGenError);
    // Ours stay ours only.
    expect(new SSEError('x')).not.toBeInstanceOf(JobNotFoundError);
    expect(new TypeError('x')).not.toBeInstanceOf(HeyGenError);
  });

  it('should keep a subclass an app defines to its own errors', () => {
    class AppError extends HeyGenError {}
    const foreign = Object.assign(new Error('x'), { name: 'SSEError', code: 'SSE_ERROR' });
    expect(foreign).not.toBeInstanceOf(AppError);
    expect(new SSEError('x')).not.toBeInstanceOf(AppError);
    expect(new AppError('SSE_ERROR', 'x')).toBeInstanceOf(AppError);
    expect(new AppError('SSE_ERROR', 'x')).toMatchObject({ name: 'HeyGenError' });
  });
});
