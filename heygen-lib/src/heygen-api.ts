import { AbortError } from './errors/abort-error.js';
import type { HeyGenError } from './errors/heygen-error.js';
import { JobFailedError } from './errors/job-failed-error.js';
import { JobNotFoundError } from './errors/job-not-found-error.js';
import { ListenerNotFoundError } from './errors/listener-not-found-error.js';
import { TimeoutError } from './errors/timeout-error.js';
import { asJob, isId } from './answers.js';
import { clampDelay, elapsedNow, isBounded } from './delay.js';
import { createHttp, type Answer, type Http } from './http.js';
import { createJobLookup, type JobLookup } from './job-lookup.js';
import type { Job } from './job.js';
import {
  createListenerRegistry,
  isFinished,
  type Listener,
  type ListenerRegistry,
} from './listener-registry.js';
import { createLogger } from './logger.js';
import { callWithRetries, type RetryPolicy } from './retry.js';
import { createTransport } from './transports/select.js';
import { validateCallOptions, validateMode, validateOptions } from './validate-options.js';
import type {
  StateListener,
  Transport,
  TransportHost,
  TransportState,
} from './transports/transport.js';
import {
  type CallOptions,
  type ConnectionState,
  type CreateJobOptions,
  type HeyGenAPIOptions,
  type HeyGenStats,
  type HeyGenStatusListenerMode,
  type StatusCallback,
  type WaitForJobOptions,
} from './types.js';

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
  readonly #options: HeyGenAPIOptions;
  readonly #http: Http;
  readonly #registry: ListenerRegistry;
  readonly #host: TransportHost;
  readonly #lookup: JobLookup;
  /** Aborted by dispose(): every call and request of the instance listens to it. */
  readonly #lifetime = new AbortController();
  readonly #retryPolicy: RetryPolicy;
  /** The transport in charge, created when the first job is watched. */
  #transport: Transport | undefined;
  #state: ConnectionState = { state: 'idle' };
  #idleCheck = false;
  #disposed = false;

  /**
   * @param options - `url` and `mode` are required; see {@link HeyGenAPIOptions}.
   * @throws TypeError naming the first option that is missing or of the wrong type or range
   */
  constructor(options: HeyGenAPIOptions) {
    validateOptions(options);
    const { url, mode, maxRetries = 5 } = options;
    // Every call of the instance listens to its lifetime: Node warns past 10 listeners on one
    // signal, which concurrent calls reach in normal use. Nothing to do in a browser.
    (globalThis as { process?: NodeLike }).process
      ?.getBuiltinModule?.('node:events')
      ?.setMaxListeners(0, this.#lifetime.signal);
    this.#mode = mode;
    this.#options = options;
    const http = (this.#http = createHttp(
      url,
      (this.clientId = options.clientId ?? crypto.randomUUID()),
      options.fetch ?? ((input, init) => fetch(input, init as RequestInit)),
      createLogger(options.logging),
      options,
    ));
    const registry = (this.#registry = createListenerRegistry({
      safely: (run) => this.#safely(run),
      report: (error) => this.#report(error),
      finished: (job) => http.log(`Job ${job.id} ${job.status}`),
      changed: () => this.#scheduleIdleCheck(),
    }));
    const missing = (ids: number[]): void => registry.fail(ids, (id) => new JobNotFoundError(id));
    this.#host = {
      http,
      heartbeatMs: 15_000,
      retryDelay: options.retryDelay ?? 500,
      pollInterval: options.pollInterval ?? 1000,
      ids: registry.watched,
      dueAt: registry.dueAt,
      watchWithin: registry.watchWithin,
      update: registry.update,
      missing,
      error: (error, ids) => registry.fail(ids, () => error, true),
      // [protocol] A snapshot lists every job the server keeps: a watched one it leaves out is
      // gone (a restart, retention) or newer than the snapshot. One lookup tells which.
      snapshot: (jobs) => {
        const listed = new Set(jobs.map((job) => job.id));
        for (const id of registry.watched()) if (!listed.has(id)) this.#lookup.add(id);
      },
    };
    this.#retryPolicy = {
      retries: maxRetries,
      retryDelay: this.#host.retryDelay,
      lifetime: this.#lifetime.signal,
    };
    this.#lookup = createJobLookup(http, registry, missing, this.#retryPolicy);
  }

  /**
   * Create a job on the server. A lost request is retried with the same `Idempotency-Key`, so a
   * retry never creates a second job.
   * @param options - optional simulation settings (`duration` in ms, `fail`), a `webhook` URL
   * and its `webhookEvents`, and the call's `timeout` (default 10 s, retries included) and
   * `signal`
   * @returns the new job's id
   * @throws TypeError when `webhook` is not a string or `webhookEvents` not an array;
   * HttpError (400 `INVALID_WEBHOOK_URL`, `WEBHOOK_URL_PRIVATE`), TimeoutError, AbortError (its
   * signal, or dispose())
   */
  async createJob(options: CreateJobOptions = {}): Promise<number> {
    const { duration, fail, webhook, webhookEvents, cancelAfter, cancelWhenUnwatched } = options;
    // Caught here rather than as the server's 400: the URL itself is the server's to judge.
    if (
      (webhook !== undefined && typeof webhook != 'string') ||
      (webhookEvents !== undefined && !Array.isArray(webhookEvents))
    ) {
      throw new TypeError('HeyGenAPI: option webhook must be a string, webhookEvents an array');
    }
    // JSON leaves out what is undefined: only the settings given are sent, none as no body.
    const json = JSON.stringify({ duration, fail, webhook, webhookEvents, cancelWhenUnwatched });
    const body = json == '{}' ? undefined : json;
    const headers: Record<string, string> = { 'Idempotency-Key': crypto.randomUUID() };
    // The server parses it (a bad one is its 400 INVALID_CANCEL_AFTER): a number is seconds.
    if (cancelAfter !== undefined) headers['Cancel-After'] = String(cancelAfter);
    const job = await this.#call(options, { call: 'createJob' }, (signal) =>
      this.#http.send({ via: 'api', method: 'POST', path: '/create', body, headers, signal }),
    );
    // [protocol] Unwatched for that long, the server cancels it: polling reads it within half.
    if (typeof cancelWhenUnwatched == 'number') {
      this.#registry.setWatchWithin(job.id, cancelWhenUnwatched * 500);
    }
    return job.id;
  }

  /**
   * Cancel a job that has not finished.
   * @param options - the call's `timeout` (default 10 s, retries included) and `signal`
   * @returns the job, now `cancelled`
   * @throws JobNotFoundError, HttpError (409 when it had already finished), TimeoutError,
   * AbortError
   */
  async cancelJob(id: number, options: CallOptions = {}): Promise<Job> {
    checkId(id);
    return this.#call(options, { jobId: id, call: 'cancelJob' }, (signal) =>
      this.#http.send({ via: 'api', method: 'POST', path: `/cancel/${id}`, jobId: id, signal }),
    );
  }

  /**
   * Ask the server for a job once.
   * @param options - the call's `timeout` (default 10 s, retries included) and `signal`
   * @throws JobNotFoundError, HttpError, TimeoutError, AbortError
   */
  async getJob(id: number, options: CallOptions = {}): Promise<Job> {
    checkId(id);
    return this.#call(options, { jobId: id, call: 'getJob' }, (signal) =>
      this.#http.send({ via: 'api', method: 'GET', path: `/status/${id}`, jobId: id, signal }),
    );
  }

  /**
   * Wait until a job ends. Resolves once with the final job when it completes, also when it
   * had completed before the call. (Typed `Promise<void>` where the caller asks for one, as the
   * first version of this API returned: such code still compiles.)
   * @throws JobFailedError (failed or cancelled), JobNotFoundError, SSEError (stream lost with
   * fallback off), HttpError (server unreachable), TimeoutError, AbortError
   */
  waitForJob<Result extends Job | void = Job>(
    id: number,
    options: WaitForJobOptions = {},
  ): Promise<Result> {
    const { timeout, signal, onProgress } = options;
    // Nothing is registered on a disposed instance: no timer, no abort listener left behind.
    if (this.#disposed) return Promise.reject(new AbortError('Disposed'));
    if (!isId(id)) return Promise.reject(badId(id));
    return new Promise<Result>((resolve, reject) => {
      validateCallOptions(options); // a TypeError here rejects the promise
      let revision = 0;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const settle = (result: Job | HeyGenError): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', abort);
        this.#registry.remove(id, listener);
        if (result instanceof Error) reject(result);
        else resolve(result as Result);
      };
      const listener: Listener = {
        wait: true,
        job: (job) => {
          if (job.revision <= revision) return;
          revision = job.revision;
          if (onProgress) this.#safely(() => onProgress(job));
          if (job.status === 'completed') settle(job);
          else if (isFinished(job)) settle(new JobFailedError(job));
        },
        error: settle,
      };
      const abort = (): void => settle(new AbortError('Aborted', signal?.reason));
      if (signal?.aborted) return abort();
      signal?.addEventListener('abort', abort);
      if (isBounded(timeout)) {
        timer = setTimeout(() => settle(new TimeoutError(id)), clampDelay(timeout));
      }
      this.#add(id, listener);
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
    checkId(id);
    let last: string | undefined;
    const listener: Listener = {
      job: (job) => {
        if (job.status === last) return;
        last = job.status;
        callback(job.id, job.status, job);
      },
      error: (error) => onError?.(error),
    };
    this.#add(id, listener);
    return () => void this.#registry.remove(id, listener);
  }

  /**
   * Remove every listen() callback of a job (pending waitForJob calls stay).
   * @throws ListenerNotFoundError when nobody listens to `id`
   */
  stop(id: number): void {
    let found = false;
    for (const listener of this.#registry.listeners(id)) {
      if (!listener.wait) found = this.#registry.remove(id, listener);
    }
    if (!found) throw new ListenerNotFoundError(id);
  }

  /**
   * Switch how status is tracked, keeping every listener: the new transport starts before the
   * old one stops, so no update falls into the gap.
   */
  changeBackend(mode: HeyGenStatusListenerMode): void {
    validateMode(mode);
    this.#mode = mode;
    const old = this.#transport;
    this.#transport = undefined;
    if (old) {
      this.#connect();
      old.close();
    }
  }

  /** What status tracking has cost so far: requests, bytes, streams, fallbacks, upgrades. */
  stats(): HeyGenStats {
    return structuredClone(this.#http.stats);
  }

  /** The connection state now; {@link HeyGenAPIOptions.onStateChange} hears every change. */
  get state(): ConnectionState {
    return this.#state;
  }

  /**
   * Close every connection, request and timer at once: pending calls and waits reject with
   * AbortError, and nothing of the library keeps a Node process alive.
   */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#lifetime.abort(new AbortError('Disposed'));
    this.#lookup.cancel();
    this.#transport?.close();
    this.#transport = undefined;
    this.#registry.clear(new AbortError('Disposed'));
    this.#setState({ state: 'closed' });
  }

  /** One call that answers with a job, through the retry policy; the job goes to listeners. */
  async #call(
    options: CallOptions,
    what: { jobId?: number; call: string },
    request: (signal: AbortSignal) => Promise<Answer>,
  ): Promise<Job> {
    validateCallOptions(options);
    const { job, hint } = await callWithRetries(
      this.#retryPolicy,
      options,
      what,
      async (signal) => {
        const answer = await request(signal);
        return { job: asJob(answer.data), hint: answer.hint };
      },
    );
    this.#registry.update(job);
    // [protocol] The answer's X-Next-Poll-Ms says when the job is due: polling waits for it.
    if (hint !== undefined) this.#registry.setDueAt(job.id, elapsedNow() + clampDelay(hint));
    return job;
  }

  #add(id: number, listener: Listener): void {
    if (this.#disposed) throw new AbortError('Disposed');
    this.#registry.add(id, listener);
    // A job known to be finished is answered from what is known: nothing to connect for.
    if (!this.#registry.watched().length) return;
    if (this.#transport) this.#transport.wake();
    else this.#connect();
    // A stream tells only about jobs that exist: ask once about an id never seen. Polling asks
    // about every watched id anyway.
    if (!this.#registry.job(id) && isStreaming(this.#state)) this.#lookup.add(id);
  }

  /**
   * Once nothing unfinished is watched, close the transport: no connection and no timer are left,
   * so a Node script exits by itself after its last wait. The next listen() connects again and
   * resumes with Last-Event-ID. Checked in a microtask, never inside a transport's own callback.
   */
  #scheduleIdleCheck(): void {
    if (this.#idleCheck) return;
    this.#idleCheck = true;
    queueMicrotask(() => {
      this.#idleCheck = false;
      if (this.#registry.watched().length) return;
      this.#lookup.cancel();
      if (!this.#transport) return;
      this.#transport.close();
      this.#transport = undefined;
      this.#setState({ state: 'idle' });
    });
  }

  /**
   * How the instance gets a transport for its mode: the one extension point of the facade (a
   * subclass may share one transport between the tabs of an origin, for instance).
   * @internal
   */
  protected openTransport(
    mode: HeyGenStatusListenerMode,
    host: TransportHost,
    retries: number,
    onState: StateListener,
  ): Transport {
    return createTransport(mode, host, this.#options, retries, onState);
  }

  #connect(): void {
    const transport = this.openTransport(
      this.#mode,
      this.#host,
      this.#retryPolicy.retries,
      (state) => this.#onTransportState(state),
    );
    this.#transport = transport;
    transport.start();
  }

  #onTransportState(state: TransportState): void {
    if (state.state === 'connecting' && state.error) {
      this.#http.log(`${state.transport} down (${state.attempt}): ${state.error.message}`);
    }
    // From polling to a stream (an upgrade, changeBackend): a watched id polling had not answered
    // yet is one no stream will mention. Asked once, like an id listened to while streaming.
    if (isStreaming(state) && !isStreaming(this.#state)) {
      for (const id of this.#registry.watched()) {
        if (!this.#registry.job(id)) this.#lookup.add(id);
      }
    }
    if (state.state !== 'closed') {
      this.#setState(state);
      return;
    }
    // Given up: everything watched learns why. A listen() from here on, onStateChange's included,
    // connects afresh and is not failed with the old error.
    this.#transport = undefined;
    const watched = this.#registry.watched();
    this.#setState(state);
    this.#registry.fail(watched, () => state.error!);
  }

  #setState(state: ConnectionState): void {
    this.#state = state;
    const { onStateChange } = this.#options;
    if (onStateChange) this.#safely(() => onStateChange(state));
  }

  /** Runs a callback; what it throws goes to onError, never up into the library. */
  #safely(run: () => void): void {
    try {
      run();
    } catch (error) {
      this.#report(error);
    }
  }

  #report(error: unknown): void {
    this.#http.log(String(error));
    try {
      this.#options.onError?.(error);
    } catch {
      // The hook itself threw: nobody is left to tell.
    }
  }
}

/** What the constructor uses of Node's `process`, where there is one. */
interface NodeLike {
  getBuiltinModule?(id: 'node:events'): { setMaxListeners(n: number, target: EventTarget): void };
}

/** A stream delivers (or is being opened): it mentions only the jobs that exist. */
const isStreaming = (state: ConnectionState): boolean =>
  'transport' in state && state.transport === 'sse';

const badId = (id: unknown): TypeError =>
  new TypeError(`HeyGenAPI: a job id is a positive integer below 1e15, not ${String(id)}`);

/** A job id the server could have given; anything else is a mistake in the caller. */
const checkId = (id: unknown): void => {
  if (!isId(id)) throw badId(id);
};
