import { ReplyError } from 'ioredis';
import { DomainError, storeUnavailable } from '../errors/domain-error.js';

/**
 * Replies by which Redis says "not now" rather than "wrong": loading its data after a restart, a
 * script running too long, a replica that lost its primary or cannot take writes, out of memory.
 */
const TRANSIENT_REPLY = /^(LOADING|BUSY|MASTERDOWN|READONLY|OOM|TRYAGAIN|NOREPLICAS)\b/;

/**
 * An error of an ioredis command as what the client is told: STORE_UNAVAILABLE (503) when Redis is
 * away (no answer at all: connection closed or refused, the command timed out or was not sent
 * while disconnected; or a transient reply), else as is.
 */
export function asStoreError(error: unknown): unknown {
  // A reply is an answer: Redis is there, and a wrong command stays wrong.
  const away =
    error instanceof ReplyError
      ? TRANSIENT_REPLY.test((error as Error).message)
      : error instanceof Error && !(error instanceof DomainError);
  return away ? storeUnavailable() : error;
}

/** An ioredis command whose failure reads as {@link asStoreError} says. */
export async function storeCommand<T>(command: Promise<T>): Promise<T> {
  try {
    return await command;
  } catch (error) {
    throw asStoreError(error);
  }
}

const isStoreUnavailable = (error: unknown): boolean =>
  error instanceof DomainError && error.code === 'STORE_UNAVAILABLE';

/** Waits between attempts of {@link retryWhileUnavailable}: 100 ms doubling to 2 s. */
const backoff = (attempt: number): number => Math.min(100 * 2 ** attempt, 2000);

/**
 * Runs `attempt` again for as long as it fails with STORE_UNAVAILABLE and `wanted()` holds: for
 * what must happen once Redis is back (a job's next step, reading back missed events), as
 * opposed to a request, which fails at once and is retried by its client.
 */
export async function retryWhileUnavailable<T>(
  attempt: () => Promise<T>,
  wanted: () => boolean,
): Promise<T> {
  for (let failures = 0; ; failures++) {
    try {
      return await attempt();
    } catch (error) {
      if (!isStoreUnavailable(error) || !wanted()) throw error;
      // Unref'd: a stopping instance does not wait for Redis to come back.
      await new Promise((resolve) => setTimeout(resolve, backoff(failures)).unref());
    }
  }
}

/**
 * Whether `promise` settles within `ms`: how a wait on Redis is bounded where ioredis would wait
 * for ever (a subscription, or a connection's offline queue, while it is away).
 */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const settled = promise.then(
    () => true,
    () => true,
  );
  const late = new Promise<boolean>((resolve) => (timer = setTimeout(resolve, ms, false)));
  try {
    return await Promise.race([settled, late]);
  } finally {
    clearTimeout(timer);
  }
}
