import { linkSignals, sleep } from './abort.js';
import { backoff } from './backoff.js';
import { elapsedNow } from './delay.js';
import { AbortError } from './errors/abort-error.js';
import { isHeyGenError } from './errors/heygen-error.js';
import { HttpError } from './errors/http-error.js';
import { TimeoutError } from './errors/timeout-error.js';
import type { CallOptions } from './types.js';

/** The bound of a call that does not set its own `timeout`. */
export const CALL_TIMEOUT = 10_000;

/** How one HeyGenAPI instance retries its calls. */
export interface RetryPolicy {
  /** Retries after the first attempt, at most. */
  readonly retries: number;
  /** First backoff delay in ms. */
  readonly retryDelay: number;
  /** Aborts every call of the instance (dispose). */
  readonly lifetime: AbortSignal;
}

/** No answer (0), and the answers that say "later". */
const RETRIED = new Set([0, 429, 502, 503, 504]);

/**
 * How long to wait before retrying after `error`, or `undefined` when retrying cannot help: no
 * answer, 429, 502, 503 and 504 are retried after `Retry-After` when the server gives one, else
 * with backoff; a 500 only when the server says when to come back (`Retry-After`). Other answers
 * (4xx, a plain 500, a body that is not JSON) are final.
 */

const retryDelayFor = (error: unknown, attempt: number, retryDelay: number): number | undefined => {
  if (!(error instanceof HttpError)) return undefined;
  const { status, retryAfterMs } = error;
  if (RETRIED.has(status)) return retryAfterMs ?? backoff(attempt, retryDelay);
  // A 500 is retried only when the server says it is safe, and when.
  return status === 500 ? retryAfterMs : undefined;
};

/**
 * Runs one call to the server: `request` (one attempt, given the call's signal) until it
 * succeeds, its failure is final, the retries are spent (the last error), the call's time runs out
 * (TimeoutError), or it is aborted by its own signal or by dispose (AbortError). The one retry
 * policy of the library: every call goes through here.
 *
 * @param what - names the call in a TimeoutError
 */
export const callWithRetries = async <T>(
  policy: RetryPolicy,
  options: CallOptions,
  what: { jobId?: number; call: string },
  request: (signal: AbortSignal) => Promise<T>,
): Promise<T> => {
  const { timeout = CALL_TIMEOUT, signal } = options;
  const deadline = elapsedNow() + timeout;
  const call = linkSignals(
    [signal, policy.lifetime],
    timeout,
    () => new TimeoutError(what.jobId, `${what.call}: timeout after ${timeout} ms`),
  );
  try {
    for (let attempt = 1; ; attempt++) {
      call.signal.throwIfAborted();
      try {
        return await request(call.signal);
      } catch (error) {
        const delay = retryDelayFor(error, attempt, policy.retryDelay);
        // A wait past the deadline cannot help: the answer the server gave is the best to tell.
        if (delay === undefined || attempt > policy.retries || elapsedNow() + delay >= deadline) {
          throw error;
        }
        await sleep(delay, call.signal);
      }
    }
  } catch (error) {
    // Aborted (dispose, the caller's signal) or out of time: that says more than what it broke.
    if (!call.signal.aborted) throw error;
    const reason: unknown = call.signal.reason;
    throw isHeyGenError(reason) ? reason : new AbortError('Aborted', reason);
  } finally {
    call.release();
  }
};
