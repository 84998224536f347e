import type { Http } from './http.js';
import type { ListenerRegistry } from './listener-registry.js';
import { asBatch } from './answers.js';
import type { HeyGenError } from './errors/heygen-error.js';
import { callWithRetries, type RetryPolicy } from './retry.js';

/** One-shot lookups of job ids, batched; see {@link createJobLookup}. */
export interface JobLookup {
  /** Look `id` up soon, with every other id asked for in the same turn. */
  add(id: number): void;
  /** Forget pending ids and ignore answers still in flight. */
  close(): void;
}

/**
 * Looks ids up once, in one `GET /status?ids=` (counted as `api`): ids the instance has never
 * seen, and watched ids a stream's snapshot left out. An event stream only tells about jobs that
 * exist, so this is how a wait for a missing job ends with JobNotFoundError instead of hanging.
 * A lookup is a call like any other: retried by the instance's policy; when that gives up, the
 * ids' watchers get the error, so a wait settles instead of hanging.
 */
export const createJobLookup = (
  http: Http,
  registry: Pick<ListenerRegistry, 'job' | 'update' | 'fail'>,
  missing: (ids: number[]) => void,
  policy: RetryPolicy,
): JobLookup => {
  /** Ids to ask about, with the revision known when they were added. */
  const pending = new Map<number, number>();
  const revision = (id: number): number => registry.job(id)?.revision ?? 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;
  /** Aborts requests in flight on close(). */
  const stop = new AbortController();

  const flush = async (): Promise<void> => {
    timer = undefined;
    // A job the stream told about meanwhile exists: no need to ask.
    const ids = [...pending].filter(([id, known]) => revision(id) === known).map(([id]) => id);
    pending.clear();
    if (!ids.length) return;
    try {
      const answer = await callWithRetries(
        policy,
        { signal: stop.signal },
        { call: 'lookup' },
        async (signal) => {
          const query = `&ids=${ids.join()}`;
          const { data } = await http.send({
            via: 'api',
            method: 'GET',
            path: '/status',
            query,
            signal,
          });
          return asBatch(data);
        },
      );
      answer.jobs.forEach(registry.update);
      if (answer.missing.length) missing(answer.missing);
    } catch (error) {
      if (!closed) registry.fail(ids, () => error as HeyGenError);
    }
  };

  return {
    add(id) {
      if (!pending.has(id)) pending.set(id, revision(id));
      timer ??= setTimeout(() => void flush());
    },
    close() {
      closed = true;
      clearTimeout(timer);
      pending.clear();
      stop.abort();
    },
  };
};
