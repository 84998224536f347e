import { backoff } from './backoff.js';
import { AbortError } from './errors/abort-error.js';
import type { HeyGenError } from './errors/heygen-error.js';
import { HttpError } from './errors/http-error.js';
import { JobFailedError } from './errors/job-failed-error.js';
import { JobNotFoundError } from './errors/job-not-found-error.js';
import { ListenerNotFoundError } from './errors/listener-not-found-error.js';
import { TimeoutError } from './errors/timeout-error.js';
import { createHttp, type Http } from './http.js';
import { createLogger } from './logger.js';
import { createPollTransport } from './transports/poll-transport.js';
import { createTransport } from './transports/select.js';
import type { Transport, TransportHost } from './transports/transport.js';
import {
  HeyGenStatusListenerMode,
  type CreateJobOptions,
  type HeyGenAPIOptions,
  type HeyGenStats,
  type Job,
  type StatusCallback,
  type WaitForJobOptions,
} from './types.js';

/** One registered interest in a job: a listen() callback or a waitForJob(). */
interface Entry {
  job(job: Job): void;
  error(error: HeyGenError): void;
  /** A waitForJob: stop(id) leaves it alone. */
  wait?: boolean;
}

/** Finished jobs remembered for late listeners; the server keeps them longer. */
const CACHE_SIZE = 1000;

// [protocol] `finishedAt` is present once a job is completed, failed or cancelled.
const isDone = (job: Job | undefined): boolean => !!job?.finishedAt;

/**
 * The heygen-api client: creates jobs and tracks their status over SSE or polling.
 *
 * @example
 * ```ts
 * const heygen = new HeyGenAPI({ url: 'http://localhost:3000', mode: HeyGenStatusListenerMode.AUTO });
 * const id = await heygen.createJob();
 * const job = await heygen.waitForJob(id);
 * heygen.dispose();
 * ```
 */
export class HeyGenAPI {
  /** This client's id, sent with every request; persist it to resume after a reload. */
  readonly clientId: string;
  #mode: HeyGenStatusListenerMode;
  readonly #http: Http;
  readonly #h: TransportHost;
  readonly #options: HeyGenAPIOptions;
  readonly #maxRetries: number;
  /** Runs a callback; what it throws goes to onError, never up into the library. */
  readonly #safely: (run: () => void) => void;
  /** Listeners live here, never in a transport, so a switch cannot drop or double one. */
  readonly #entries = new Map<number, Set<Entry>>();
  /** The newest copy of every job seen, in least-recently-updated order. */
  readonly #jobs = new Map<number, Job>();
  /** The transport in charge, created when the first job is watched. */
  #transport: Transport | undefined;
  /** An SSE stream tried in the background after a fallback. */
  #probe: Transport | undefined;
  #probeTimer: ReturnType<typeof setTimeout> | undefined;
  #probes = 0;
  /** Ids watched over SSE that this instance has never seen, to look up once. */
  readonly #unknown = new Set<number>();
  /**
   * Looks #unknown ids up in batches: an SSE stream only tells about jobs that exist, so this is
   * how a wait for a missing job ends with JobNotFoundError instead of hanging.
   */
  readonly #lookup: Transport;
  #disposed = false;

  /**
   * @param options - `url` and `mode` are required; see {@link HeyGenAPIOptions}.
   * @throws TypeError when `url` or `mode` is missing or invalid.
   */
  constructor(options: HeyGenAPIOptions) {
    const { url, mode, fallback, maxRetries = 5, onError } = options;
    if (!url || !Object.values(HeyGenStatusListenerMode).includes(mode)) {
      throw new TypeError('url and mode required');
    }
    this.#mode = mode;
    this.#options = options;
    const http = (this.#http = createHttp(
      url,
      (this.clientId = options.clientId ?? crypto.randomUUID()),
      options.fetch ?? ((input, init) => fetch(input, init as RequestInit)),
      createLogger(options.logging),
      options.apiKey,
    ));
    const { stats, log } = http;
    const entries = this.#entries;
    const jobs = this.#jobs;
    const safely = (run: () => void): void => {
      try {
        run();
      } catch (error) {
        report(error);
      }
    };
    const report = (error: unknown): void => {
      log(String(error));
      try {
        onError?.(error);
      } catch {
        // The hook itself threw: nobody is left to tell.
      }
    };
    /** Tell an error to everything watching `ids`; unless `soft`, they stop watching. */
    const fail = (ids: number[], error: (id: number) => HeyGenError, soft?: boolean): void => {
      for (const id of ids) {
        const e = error(id);
        report(e);
        for (const entry of [...(entries.get(id) ?? [])]) safely(() => entry.error(e));
        if (!soft) entries.delete(id);
      }
    };
    // The face HeyGenAPI shows its transports.
    const h: TransportHost = (this.#h = {
      http,
      heartbeatMs: 15_000,
      retryDelay: options.retryDelay ?? 500,
      pollInterval: options.pollInterval ?? 1000,
      ids: () => [...entries.keys()].filter((id) => !isDone(jobs.get(id))),
      update: (job) => {
        // Dedupe by revision: nobody sees the same or an older version of a job twice.
        const old = jobs.get(job.id);
        if (old && old.revision >= job.revision) return;
        jobs.delete(job.id);
        jobs.set(job.id, job);
        if (jobs.size > CACHE_SIZE) jobs.delete(jobs.keys().next().value!);
        if (isDone(job)) log(`Job ${job.id} ${job.status}`);
        for (const entry of [...(entries.get(job.id) ?? [])]) safely(() => entry.job(job));
      },
      missing: (ids) => fail(ids, (id) => new JobNotFoundError(id)),
      error: (error, ids) => fail(ids, () => error, true),
      up: (transport) => {
        if (transport !== this.#probe) return;
        // Upgrade: the probe already streams, so stopping POLL now leaves no gap.
        this.#probe = undefined;
        this.#transport?.close();
        this.#transport = transport;
        stats.upgrades++;
        log('back to SSE');
      },
      down: (transport, error, attempt) => {
        log(`${transport.kind} down (${attempt}): ${error.message}`);
        if (transport === this.#probe) {
          this.#probe = undefined;
          transport.close();
          this.#scheduleProbe();
          return false;
        }
        if (transport !== this.#transport) return false;
        if (transport.kind === 'sse' && fallback) {
          stats.fallbacks++;
          log('fallback to POLL');
          (this.#transport = createPollTransport(h)).start();
          transport.close();
          this.#probes = 0;
          this.#scheduleProbe();
          return false;
        }
        if (attempt <= maxRetries) return true;
        this.#stopProbe();
        transport.close();
        this.#transport = undefined;
        fail(h.ids(), () => error);
        return false;
      },
    });
    const unknown = this.#unknown;
    // A one-shot poller: its ids drain the set; on failure the stream tells the same, later.
    this.#lookup = createPollTransport({
      ...h,
      ids: () => {
        const ids = [...unknown].filter((id) => !jobs.has(id));
        unknown.clear();
        return ids;
      },
      up: () => {},
      down: () => false,
    });
    this.#safely = safely;
    this.#maxRetries = maxRetries;
  }

  /**
   * Create a job on the server. A lost request is retried with the same `Idempotency-Key`, so a
   * retry never creates a second job.
   * @param options - optional simulation settings: `duration` (ms) and `fail`
   * @returns the new job's id
   */
  async createJob(options?: CreateJobOptions): Promise<number> {
    const key = crypto.randomUUID();
    const body = options && JSON.stringify(options);
    for (let attempt = 1; ; attempt++) {
      try {
        const { data } = await this.#http.send('api', 'POST', '/create', '', body, {
          'Idempotency-Key': key,
        });
        const job = data as Job;
        this.#h.update(job);
        return job.id;
      } catch (error) {
        const lost = error instanceof HttpError && (!error.status || error.status >= 500);
        if (!lost || attempt > this.#maxRetries) throw error;
        await new Promise((resolve) => setTimeout(resolve, backoff(attempt, this.#h.retryDelay)));
      }
    }
  }

  /**
   * Cancel a job that has not finished.
   * @returns the job, now `cancelled`
   * @throws JobNotFoundError, or HttpError (409) when it had already finished
   */
  async cancelJob(id: number): Promise<Job> {
    return this.#fetchJob('POST', `/cancel/${id}`, id);
  }

  /**
   * Ask the server for a job once.
   * @throws JobNotFoundError
   */
  async getJob(id: number): Promise<Job> {
    return this.#fetchJob('GET', `/status/${id}`, id);
  }

  /**
   * Wait until a job ends. Resolves once with the final job when it completes, also when it
   * had completed before the call.
   * @throws JobFailedError (failed or cancelled), JobNotFoundError, SSEError (stream lost with
   * fallback off), HttpError (server unreachable), TimeoutError, AbortError
   */
  waitForJob(id: number, options: WaitForJobOptions = {}): Promise<Job> {
    const { timeout, signal, onProgress } = options;
    return new Promise<Job>((resolve, reject) => {
      let revision = 0;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const settle = (result: Job | HeyGenError): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', abort);
        this.#remove(id, entry);
        if (result instanceof Error) reject(result);
        else resolve(result);
      };
      const entry: Entry = {
        wait: true,
        job: (job) => {
          if (job.revision <= revision) return;
          revision = job.revision;
          if (onProgress) this.#safely(() => onProgress(job));
          if (job.status === 'completed') settle(job);
          else if (isDone(job)) settle(new JobFailedError(job));
        },
        error: settle,
      };
      const abort = (): void => settle(new AbortError('Aborted', signal?.reason));
      if (signal?.aborted) return abort();
      signal?.addEventListener('abort', abort);
      if (timeout !== undefined) timer = setTimeout(() => settle(new TimeoutError(id)), timeout);
      this.#add(id, entry);
    });
  }

  /**
   * Call `callback` on every status change of a job (never twice for one status), starting with
   * the status already known, if any. Several listeners may watch one job.
   * @param onError - receives errors about this job (e.g. MessageParseError, JobNotFoundError);
   * after a fatal one (JobNotFoundError, SSEError, HttpError) the listener is removed
   * @returns a function that removes this listener
   * @throws AbortError after dispose()
   */
  listen(id: number, callback: StatusCallback, onError?: (error: HeyGenError) => void): () => void {
    let last: string | undefined;
    const entry: Entry = {
      job: (job) => {
        if (job.status === last) return;
        last = job.status;
        callback(job.id, job.status, job);
      },
      error: (error) => onError?.(error),
    };
    this.#add(id, entry);
    return () => this.#remove(id, entry);
  }

  /**
   * Remove every listen() callback of a job (pending waitForJob calls stay).
   * @throws ListenerNotFoundError when nobody listens to `id`
   */
  stop(id: number): void {
    let found = false;
    for (const entry of this.#entries.get(id) ?? []) {
      if (!entry.wait) found = this.#remove(id, entry);
    }
    if (!found) throw new ListenerNotFoundError(id);
  }

  /**
   * Switch how status is tracked, keeping every listener: the new transport starts before the
   * old one stops, so no update falls into the gap.
   */
  changeBackend(mode: HeyGenStatusListenerMode): void {
    this.#mode = mode;
    this.#stopProbe();
    const old = this.#transport;
    this.#transport = undefined;
    if (old) {
      this.#ensure();
      old.close();
    }
  }

  /** What status tracking has cost so far: requests, bytes, streams, fallbacks, upgrades. */
  stats(): HeyGenStats {
    return structuredClone(this.#http.stats);
  }

  /** Close every connection and timer; pending waits reject with AbortError. */
  dispose(): void {
    this.#disposed = true;
    this.#lookup.close();
    this.#stopProbe();
    this.#transport?.close();
    this.#transport = undefined;
    const error = new AbortError('Disposed');
    for (const [id, set] of this.#entries) {
      for (const entry of set) if (entry.wait) entry.error(error);
      this.#entries.delete(id);
    }
  }

  async #fetchJob(method: string, path: string, id: number): Promise<Job> {
    const job = (await this.#http.send('api', method, path, '', undefined, undefined, id)).data;
    this.#h.update(job as Job);
    return job as Job;
  }

  #add(id: number, entry: Entry): void {
    if (this.#disposed) throw new AbortError('Disposed');
    const set = this.#entries.get(id) ?? new Set();
    this.#entries.set(id, set);
    set.add(entry);
    if (this.#jobs.has(id)) {
      // Deliver what is known, after the caller got its unsubscribe function.
      queueMicrotask(() => {
        if (set.has(entry)) this.#safely(() => entry.job(this.#jobs.get(id)!));
      });
    } else if (this.#mode !== 'poll') {
      this.#unknown.add(id);
      this.#lookup.wake();
    }
    if (this.#transport) this.#transport.wake();
    else this.#ensure();
  }

  /** @returns whether the entry was registered */
  #remove(id: number, entry: Entry): boolean {
    const set = this.#entries.get(id);
    const had = !!set?.delete(entry);
    if (set && !set.size) this.#entries.delete(id);
    return had;
  }

  #ensure(): void {
    this.#transport = createTransport(this.#mode, this.#h, this.#options);
    this.#transport.start();
  }

  /** After a fallback, try SSE again in the background, with backoff. */
  #scheduleProbe(): void {
    this.#probeTimer = setTimeout(
      () => {
        this.#probe = createTransport(this.#mode, this.#h, this.#options);
        this.#probe.start();
      },
      backoff(++this.#probes, this.#h.retryDelay),
    );
  }

  #stopProbe(): void {
    clearTimeout(this.#probeTimer);
    this.#probe?.close();
    this.#probe = undefined;
  }
}
