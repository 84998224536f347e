import type { Http } from './http.js';
import type { ListenerRegistry } from './listener-registry.js';
import { asBatch, MAX_IDS_PER_REQUEST } from './answers.js';
import type { HeyGenError } from './errors/heygen-error.js';
import { MAX_DELAY } from './delay.js';
import { callWithRetries, type RetryPolicy } from './retry.js';

/** One-shot lookups of job ids, batched; see {@link createJobLookup}. */
export interface JobLookup {
  /** Look `id` up soon, with every other id asked for in the same turn. */
  add(id: number): void;
  /** Forget pending ids and abort the lookups in flight (nothing is watched, or dispose). */
  cancel(): void;
}

/**
 * Looks ids up once, in one `GET /status?ids=` (counted as `api`): ids the instance has never
 * seen, and watched ids a stream's snapshot left out. An event stream only tells about jobs that
 * exist, so this is how a wait for a missing job ends with JobNotFoundError instead of hanging.
 * Retried with the instance's backoff for as long as the ids stay watched and unknown; an answer
 * that can never succeed goes to listen() callbacks, and waits are left to the stream.
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
  /** Aborts the lookups in flight on cancel(); a new one serves the lookups after it. */
  let stop = new AbortController();

  const flush = async (): Promise<void> => {
    timer = undefined;
    // As many as one request may list; the rest in another lookup right after.
    const asked = new Map([...pending].slice(0, MAX_IDS_PER_REQUEST));
    for (const id of asked.keys()) pending.delete(id);
    if (pending.size) timer = setTimeout(() => void flush());
    // A job the stream told about meanwhile exists: no need to ask (on each retry too).
    const unknown = (): number[] =>
      [...asked].filter(([id, known]) => revision(id) === known).map(([id]) => id);
    if (!unknown().length) return;
    const { signal: cancelled } = stop;
    try {
      const answer = await callWithRetries(
        // Only an answer ends a wait for a job no stream will mention: retried with the same
        // backoff as any call, for as long as it is watched (cancel() ends it).
        { ...policy, retries: Number.MAX_SAFE_INTEGER },
        { signal: cancelled, timeout: MAX_DELAY },
        { call: 'lookup' },
        async (signal) => {
          const ids = unknown();
          if (!ids.length) return { jobs: [], missing: [] };
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
      // A final answer that is no answer (a 400, a body of the wrong shape): listen() callbacks
      // hear it, waits go on; the stream tells about the job, or its failure ends them.
      if (!cancelled.aborted) registry.fail(unknown(), () => error as HeyGenError, true);
    }
  };

  return {
    add(id) {
      if (!pending.has(id)) pending.set(id, revision(id));
      timer ??= setTimeout(() => void flush());
    },
    cancel() {
      clearTimeout(timer);
      timer = undefined;
      pending.clear();
      stop.abort();
      stop = new AbortController();
    },
  };
};
