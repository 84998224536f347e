import type { Http } from './http.js';
import type { ListenerRegistry } from './listener-registry.js';
import type { Job } from './job.js';

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
 * On failure it says nothing: the stream tells later.
 */
export const createJobLookup = (
  http: Http,
  registry: Pick<ListenerRegistry, 'job' | 'update'>,
  missing: (ids: number[]) => void,
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
      const { data } = await http.send({
        via: 'api',
        method: 'GET',
        path: '/status',
        query: `&ids=${ids.join()}`,
        signal: stop.signal,
      });
      if (closed) return;
      const answer = data as { jobs: Job[]; missing: number[] };
      answer.jobs.forEach(registry.update);
      if (answer.missing.length) missing(answer.missing);
    } catch {
      // The stream, or its failure, answers instead.
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
