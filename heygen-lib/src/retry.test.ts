import { fakeClock } from 'heygen-test-support';
import { describe, expect, it, vi } from 'vitest';
import { AbortError } from './errors/abort-error.js';
import { HttpError } from './errors/http-error.js';
import { MessageParseError } from './errors/message-parse-error.js';
import { TimeoutError } from './errors/timeout-error.js';
import { callWithRetries, CALL_TIMEOUT, type RetryPolicy } from './retry.js';
import type { CallOptions } from './types.js';

/** A request that fails with each of `failures` in turn, then answers `'ok'`. */
const scripted = (...failures: (Error | 'hang')[]) => {
  const starts: number[] = [];
  const request = vi.fn((signal: AbortSignal) => {
    starts.push(Date.now());
    const failure = failures.shift();
    if (failure === 'hang') {
      return new Promise<string>((_resolve, reject) =>
        signal.addEventListener('abort', () => reject(new HttpError(0, 'aborted'))),
      );
    }
    return failure === undefined ? Promise.resolve('ok') : Promise.reject(failure);
  });
  return { request, starts };
};

const newSut = (
  request: (signal: AbortSignal) => Promise<string>,
  options: CallOptions = {},
  policy: Partial<RetryPolicy> = {},
) =>
  callWithRetries(
    { retries: 3, retryDelay: 100, lifetime: new AbortController().signal, ...policy },
    options,
    { jobId: 7, call: 'getJob' },
    request,
  );

const lost = () => new HttpError(0, 'No answer');

describe(callWithRetries.name, () => {
  it('should retry no answer, 502, 503 and 504 with jittered exponential backoff', async () => {
    using clock = fakeClock();
    const { request, starts } = scripted(
      lost(),
      new HttpError(502, 'x'),
      new HttpError(503, 'x'),
      new HttpError(504, 'x'),
    );
    const call = newSut(request, {}, { retries: 4 });
    await clock.advance(5000);
    await expect(call).resolves.toBe('ok');
    const gaps = starts.slice(1).map((start, i) => start - starts[i]!);
    gaps.forEach((gap, i) => {
      expect(gap).toBeGreaterThanOrEqual(50 * 2 ** i);
      expect(gap).toBeLessThanOrEqual(100 * 2 ** i);
    });
  });

  it('should give up after `retries` retries with the last error', async () => {
    using clock = fakeClock();
    const { request } = scripted(lost(), lost(), lost(), new HttpError(503, 'last'));
    const call = expect(newSut(request)).rejects.toMatchObject({ status: 503 });
    await clock.advance(5000);
    await call;
    expect(request).toHaveBeenCalledTimes(4);
  });

  it('should wait what Retry-After says for 429, and for 500 only when it says so', async () => {
    using clock = fakeClock();
    const { request, starts } = scripted(
      new HttpError(429, 'x', 'RATE_LIMITED', undefined, 2000),
      new HttpError(500, 'x', 'INTERNAL', undefined, 1000),
    );
    const call = newSut(request);
    await clock.advance(5000);
    await expect(call).resolves.toBe('ok');
    expect([starts[1]! - starts[0]!, starts[2]! - starts[1]!]).toEqual([2000, 1000]);
  });

  it('should not retry other answers: 4xx, a plain 500, a body that is not JSON', async () => {
    for (const final of [
      new HttpError(400, 'x'),
      new HttpError(404, 'x'),
      new HttpError(409, 'x'),
      new HttpError(500, 'x'),
      new MessageParseError('<html>', new SyntaxError('x')),
    ]) {
      const { request } = scripted(final);
      await expect(newSut(request)).rejects.toBe(final);
      expect(request).toHaveBeenCalledTimes(1);
    }
  });

  it('should answer at once with the server error when its Retry-After passes the deadline', async () => {
    using _clock = fakeClock();
    const busy = new HttpError(503, 'x', 'BUSY', undefined, 60_000);
    const { request } = scripted(busy);
    await expect(newSut(request, { timeout: 5000 })).rejects.toBe(busy);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('should retry when the wall clock jumps forward past the deadline (review of 2026-12-01)', async () => {
    using clock = fakeClock();
    const busy = new HttpError(503, 'x', 'BUSY', undefined, 1000);
    const request = vi.fn((_signal: AbortSignal) => {
      if (request.mock.calls.length > 1) return Promise.resolve('ok');
      // The computer's clock is set an hour ahead while the first attempt is out.
      vi.setSystemTime(Date.now() + 3_600_000);
      return Promise.reject(busy);
    });
    const call = newSut(request, { timeout: 5000 });
    await clock.advance(1000);
    await expect(call).resolves.toBe('ok');
    expect(request).toHaveBeenCalledTimes(2);
  });

  it('should end with a TimeoutError when the time runs out, even mid-request', async () => {
    using clock = fakeClock();
    const { request } = scripted(lost(), 'hang');
    const call = newSut(request, { timeout: 1000 });
    const rejected = expect(call).rejects.toBeInstanceOf(TimeoutError);
    await clock.advance(1000);
    await rejected;
    await expect(call).rejects.toMatchObject({
      jobId: 7,
      message: 'getJob: timeout after 1000 ms',
    });
    expect(vi.getTimerCount()).toBe(0);
  });

  it(`should be bounded by ${CALL_TIMEOUT} ms by default`, async () => {
    using clock = fakeClock();
    const { request } = scripted('hang');
    const call = newSut(request);
    const rejected = expect(call).rejects.toBeInstanceOf(TimeoutError);
    await clock.advance(CALL_TIMEOUT);
    await rejected;
  });

  it("should end with an AbortError when the caller's signal aborts, during a backoff", async () => {
    using clock = fakeClock();
    const controller = new AbortController();
    const { request } = scripted(lost());
    const call = newSut(request, { signal: controller.signal });
    await clock.advance(10);
    controller.abort('user');
    await expect(call).rejects.toEqual(new AbortError('Aborted', 'user'));
    expect(request).toHaveBeenCalledTimes(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("should end with the instance's reason when the instance is disposed mid-request", async () => {
    using _clock = fakeClock();
    const lifetime = new AbortController();
    const { request } = scripted('hang');
    const call = newSut(request, {}, { lifetime: lifetime.signal });
    const disposed = new AbortError('Disposed');
    lifetime.abort(disposed);
    await expect(call).rejects.toBe(disposed);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('should not start at all when already aborted', async () => {
    const { request } = scripted();
    await expect(newSut(request, { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(
      AbortError,
    );
    expect(request).not.toHaveBeenCalled();
  });
});
