import type { HeyGenError } from './errors/heygen-error.js';
import { elapsedNow } from './delay.js';
import type { Job } from './job.js';

/** One registered interest in a job: a listen() callback or a waitForJob(). */
export interface Listener {
  job(job: Job): void;
  error(error: HeyGenError): void;
  /** A waitForJob: stop(id) leaves it alone. */
  wait?: boolean;
}

/**
 * Jobs remembered for late listeners, beyond those watched (which are always kept: a watched job
 * forgotten would be watched again once finished, and an older copy taken for news); the server
 * keeps them longer.
 */
const CACHE_SIZE = 1000;

// [protocol] `finishedAt` is present once a job is completed, failed or cancelled.
export const isFinished = (job: Job | undefined): boolean => !!job?.finishedAt;

/**
 * Who watches which job, and the newest copy of every job seen. Listeners live here, never in a
 * transport, so a switch of transport cannot drop or double one; every copy of a job passes
 * through {@link ListenerRegistry.update}, which drops repeated and older revisions.
 */
export interface ListenerRegistry {
  /** Register a listener; it gets the job's known copy (if any) in a microtask. */
  add(id: number, listener: Listener): void;
  /** @returns whether the listener was registered */
  remove(id: number, listener: Listener): boolean;
  /** The listeners of a job, in registration order. */
  listeners(id: number): Listener[];
  /** Watched ids whose job has not finished. */
  watched: () => number[];
  /** The newest copy of a job, if one was seen. */
  job: (id: number) => Job | undefined;
  /** Remember when a known job is due to finish (epoch ms, from an answer's poll hint). */
  setDueAt(id: number, at: number): void;
  /** When a job is due, if an answer said so and it has not finished; else 0 (now). */
  dueAt: (id: number) => number;
  /**
   * Have a job read again within `ms` of every read, and of now: it asked the server to cancel it
   * once unwatched for twice that (`cancelWhenUnwatched`), and polling is how it is watched.
   */
  setWatchWithin(id: number, ms: number): void;
  /** Within how many ms of a read a job must be read again; Infinity when it asked for none. */
  watchWithin: (id: number) => number;
  /** A copy of a job from anywhere: passed on unless it is not newer than the one known. */
  update: (job: Job) => void;
  /**
   * Tell an error to everything watching `ids`; unless `soft`, they stop watching. A soft error (a
   * message that did not parse) goes to listen() callbacks only: it settles no wait.
   */
  fail(ids: number[], error: (id: number) => HeyGenError, soft?: boolean): void;
  /** Drop every listener, telling each wait `error`. */
  clear(error: HeyGenError): void;
}

/** What the registry calls out to; see {@link createListenerRegistry}. */
export interface RegistryHooks {
  /** Runs a listener; what it throws is reported, never raised into the library. */
  safely: (run: () => void) => void;
  /** Hears every error told to listeners. */
  report: (error: HeyGenError) => void;
  /** Hears every job that reached its final state. */
  finished: (job: Job) => void;
  /** The set of watched unfinished jobs may have changed (a listener went, a job ended). */
  changed: () => void;
}

export const createListenerRegistry = ({
  safely,
  report,
  finished,
  changed,
}: RegistryHooks): ListenerRegistry => {
  const entries = new Map<number, Set<Listener>>();
  /** The newest copy of every job seen, in least-recently-updated order. */
  const jobs = new Map<number, Job>();
  /** When known unfinished jobs are due; forgotten with the job. */
  const due = new Map<number, number>();
  /** How often the jobs that asked for `cancelWhenUnwatched` must be read; forgotten with them. */
  const watchPeriods = new Map<number, number>();
  const listeners = (id: number): Listener[] => [...(entries.get(id) ?? [])];
  /** Whether `listener` is still registered for `id`: one removed by an earlier call hears nothing. */
  const registered = (id: number, listener: Listener): boolean => !!entries.get(id)?.has(listener);
  const forget = (id: number): void => {
    jobs.delete(id);
    due.delete(id);
    watchPeriods.delete(id);
  };

  return {
    add(id, listener) {
      const set = entries.get(id) ?? new Set();
      entries.set(id, set);
      set.add(listener);
      if (!jobs.has(id)) return;
      // Deliver what is known, after the caller got its unsubscribe function.
      queueMicrotask(() => {
        // Still registered: fail() and clear() drop a job's whole set from `entries`.
        if (registered(id, listener)) safely(() => listener.job(jobs.get(id)!));
      });
    },
    remove(id, listener) {
      const set = entries.get(id);
      const had = !!set?.delete(listener);
      if (set && !set.size) entries.delete(id);
      if (had) changed();
      return had;
    },
    listeners,
    watched: () => [...entries.keys()].filter((id) => !isFinished(jobs.get(id))),
    job: (id) => jobs.get(id),
    setDueAt(id, at) {
      if (jobs.has(id) && !isFinished(jobs.get(id))) due.set(id, at);
    },
    dueAt: (id) => due.get(id) ?? 0,
    setWatchWithin(id, ms) {
      if (!jobs.has(id) || isFinished(jobs.get(id))) return;
      watchPeriods.set(id, ms);
      due.set(id, Math.min(due.get(id) ?? Infinity, elapsedNow() + ms));
    },
    watchWithin: (id) => watchPeriods.get(id) ?? Infinity,
    update(job) {
      // One cursor for every channel (issue 19): each event of a job is one revision, so a copy
      // whose revision is known is an event already delivered, whatever channel brought it; the
      // revision also works with servers that send no `eventId`, at no cost to the bundle.
      const known = jobs.get(job.id);
      if (known && known.revision >= job.revision) return;
      jobs.delete(job.id);
      jobs.set(job.id, job);
      if (jobs.size > CACHE_SIZE) {
        // The least recently updated job nobody watches.
        for (const id of jobs.keys()) {
          if (entries.has(id)) continue;
          forget(id);
          break;
        }
      }
      if (isFinished(job)) {
        due.delete(job.id);
        watchPeriods.delete(job.id);
      }
      for (const listener of listeners(job.id)) {
        if (registered(job.id, listener)) safely(() => listener.job(job));
      }
      if (isFinished(job)) {
        finished(job);
        changed();
      }
    },
    fail(ids, error, soft) {
      for (const id of ids) {
        const told = error(id);
        report(told);
        for (const listener of listeners(id)) {
          if (!(soft && listener.wait) && registered(id, listener)) {
            safely(() => listener.error(told));
          }
        }
        if (!soft) entries.delete(id);
      }
      if (!soft) changed();
    },
    clear(error) {
      for (const [id, set] of entries) {
        entries.delete(id);
        for (const listener of set) if (listener.wait) safely(() => listener.error(error));
      }
    },
  };
};
