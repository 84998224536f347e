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
 * Looks up ids the instance has never seen, once, in one `GET /status?ids=` (counted as `api`).
 * An event stream only tells about jobs that exist, so this is how a wait for a missing job ends
 * with JobNotFoundError instead of hanging. On failure it says nothing: the stream tells later.
 */
export const createJobLookup = (
  http: Http,
  registry: Pick<ListenerRegistry, 'job' | 'update'>,
  missing: (ids: number[]) => void,
): JobLookup => {
  const pending = new Set<number>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;

  const flush = async (): Promise<void> => {
    timer = undefined;
    // The stream may have told about some of them meanwhile.
    const ids = [...pending].filter((id) => !registry.job(id));
    pending.clear();
    if (!ids.length) return;
    try {
      const { data } = await http.send('api', 'GET', '/status', `&ids=${ids.join()}`);
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
      pending.add(id);
      timer ??= setTimeout(() => void flush());
    },
    close() {
      closed = true;
      clearTimeout(timer);
      pending.clear();
    },
  };
};
