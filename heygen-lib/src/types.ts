import type { HeyGenError } from './errors/heygen-error.js';
import type { Job, JobStatus } from './job.js';

/**
 * How job status reaches the client.
 *
 * `AUTO` picks SSE over an `EventSource` where one exists, else SSE over a streaming `fetch`,
 * else polling. `SSE` is one connection for all jobs (cheapest); `POLL` asks the server in
 * batches, held by the server until a job finishes (`wait`), else at most once per
 * `pollInterval`.
 */
export const HeyGenStatusListenerMode = {
  /** Choose by capability: EventSource, then streaming fetch, then polling. */
  AUTO: 'auto',
  /** One Server-Sent-Events connection for every job. */
  SSE: 'sse',
  /** One batched status request per tick, held by the server until a job finishes. */
  POLL: 'poll',
} as const;
/** A value of {@link HeyGenStatusListenerMode}. */
export type HeyGenStatusListenerMode =
  (typeof HeyGenStatusListenerMode)[keyof typeof HeyGenStatusListenerMode];

/**
 * Called on every status change of a watched job, never twice for one status.
 * @param id - the job id
 * @param status - its new status
 * @param job - the full job object
 */
export type StatusCallback = (id: number, status: JobStatus, job: Job) => void;

/** The smallest `Response` the library reads. */
export interface ResponseLike {
  /** The HTTP status code. */
  readonly status: number;
  /** The response headers; the library reads the poll hint and the content type. */
  readonly headers: {
    /** The header's value, or `null` when absent. */
    get(name: string): string | null;
  };
  /**
   * The streamed body: SSE over `fetch` needs it; answers are read from it up to 1 MiB when it is
   * a web stream, else with `text()`.
   */
  readonly body?: {
    /** A reader of the body's bytes. */
    getReader(): ReaderLike;
  } | null;
  /** The whole body as text. */
  text(): Promise<string>;
}

/** The smallest stream reader the built-in SSE-over-fetch transport uses. */
export interface ReaderLike {
  /** The next chunk of bytes. */
  read(): Promise<{
    /** `true` once the stream has ended. */
    done: boolean;
    /** The chunk, unless `done`. */
    value?: Uint8Array | undefined;
  }>;
  /** Stops reading and releases the stream. */
  cancel(): Promise<unknown>;
}

/** The smallest `fetch` the library calls. */
export type FetchLike = (
  url: string,
  init: {
    method?: string;
    headers?: Record<string, string>;
    body?: string | undefined;
    signal?: AbortSignal;
  },
) => Promise<ResponseLike>;

/** The smallest `MessageEvent` the library reads. */
export interface MessageEventLike {
  /** The event's `data:` lines, joined. */
  readonly data: string;
  /** The last `id:` received on the stream, sent back as `Last-Event-ID` on reconnect. */
  readonly lastEventId: string;
}

/** The smallest `EventSource` instance the library uses. */
export interface EventSourceLike {
  /** `0` connecting, `1` open, `2` closed (for good). */
  readonly readyState: number;
  /** Subscribes to one named event type. */
  addEventListener(type: string, listener: (event: MessageEventLike) => void): void;
  /** Called when the connection fails or is lost. */
  onerror: ((event: never) => unknown) | null;
  /** Closes the connection; it will not reconnect. */
  close(): void;
}

/** An `EventSource` constructor (the browser's, or the `eventsource` package's in Node). */
export type EventSourceConstructorLike = new (url: string) => EventSourceLike;

/** Options of {@link HeyGenAPI}. */
export interface HeyGenAPIOptions {
  /** Base URL of the heygen-api server, e.g. `http://localhost:3000`. */
  url: string;
  /** How status is tracked; required because the choice has a direct cost. */
  mode: HeyGenStatusListenerMode;
  /**
   * Log from inside the library: `true` prints timestamped `[heygen]` lines to the console; a
   * function receives each message instead (to tag it or route it to the app's logger).
   * @default false
   */
  logging?: boolean | ((message: string) => void);
  /**
   * On an SSE disruption, switch to POLL at once (keeping every listener) and return to SSE
   * once it works again.
   * @default false
   */
  fallback?: boolean;
  /**
   * The polling budget: never more than one status request per this many ms, except that a held
   * poll (see `wait`) answered with news is followed at once by the next.
   * @default 1000
   */
  pollInterval?: number;
  /**
   * POLL (and the polling AUTO and SSE fall back to): ask the server to hold each poll until a job
   * it lists ends (a held wait, or long polling: `?wait=<s>`, the query form of `Prefer: wait`,
   * which costs a browser no CORS preflight), for at most this many
   * seconds; `true` is 25, below the 30 s many proxies give one request. A poll goes out 100 ms
   * before the soonest job is due and the next at once after news, so a final status arrives
   * within milliseconds of the job's end, for about one request per job; a held poll is cut this
   * long + 5 s after it went out. `false` or `0`: plain polling, following the server's hint.
   * Where the server does not hold polls, or a proxy cuts held ones, the library polls plainly by
   * itself, losing nothing.
   * @default true
   */
  wait?: boolean | number;
  /** This client's id (a UUID); persist it to resume after a reload. Default: a new random one. */
  clientId?: string;
  /** Sent as `Authorization: Bearer` (and `access_token` for an EventSource). */
  apiKey?: string;
  /**
   * Extra headers for every request, or a function (sync or async) that returns them, called
   * before every request (create, cancel, getJob, each poll and held wait, lookups) and before
   * every stream connect and reconnect: a token that expires during a long render is refreshed,
   * and the stream resumes from its last event id. Its `Authorization` overrides `apiKey`'s; the
   * library's own headers (`Accept`, `Content-Type`, `Idempotency-Key`) override it.
   *
   * An EventSource cannot send headers: it sends only the `Authorization: Bearer` token, as
   * `access_token` in the stream's URL (as with `apiKey`); pass `EventSource: null` in Node to
   * stream over `fetch` with every header.
   *
   * When the function throws or rejects, the request fails as one that got no answer (HttpError
   * `NETWORK_ERROR`, the error as its `cause`) and is retried like one; a stream reconnects with
   * backoff. A function that never settles is cut like a request that hangs (its timeout, or the
   * stream's heartbeat watchdog).
   *
   * With heygen-api's `API_KEYS`, the key names the client: a fresh token must stand for the same
   * key (as a gateway's short-lived tokens do), or the jobs made with the old one are not found.
   * @example
   * ```ts
   * const heygen = new HeyGenAPI({
   *   url,
   *   mode: HeyGenStatusListenerMode.AUTO,
   *   headers: async () => ({ Authorization: `Bearer ${await auth.freshToken()}` }),
   * });
   * ```
   */
  headers?:
    Record<string, string> | (() => Record<string, string> | Promise<Record<string, string>>);
  /**
   * Retries of a call (createJob, cancelJob, getJob), and failures in a row a transport tolerates
   * before affected waits reject.
   * @default 5
   */
  maxRetries?: number;
  /**
   * First retry delay in ms; doubles with each failure (with jitter), up to 30 s.
   * @default 500
   */
  retryDelay?: number;
  /** `fetch` to use. Default: the global one. */
  fetch?: FetchLike;
  /**
   * `EventSource` constructor to use. Default: the global one. `null` forces the built-in
   * SSE-over-fetch transport.
   */
  EventSource?: EventSourceConstructorLike | null;
  /** Receives every error the library handles, including exceptions thrown by callbacks. */
  onError?: (error: unknown) => void;
  /**
   * Called whenever the connection state changes: a stream or polling connecting, open, a
   * fallback to POLL and the return to SSE, giving up, dispose().
   */
  onStateChange?: (state: ConnectionState) => void;
}

/** Which transport is delivering: one event stream, or batched polling. */
export type TransportKind = 'sse' | 'poll';

/**
 * Where status tracking stands. `idle` while no unfinished job is watched; `connecting` while a
 * transport tries (again: `attempt` counts failures in a row, `error` is the last one); `open`
 * once a stream is connected or a poll answered; `closed` after dispose(), or with the `error`
 * that made it give up (a later listen() starts again).
 */
export type ConnectionState =
  | {
      /** Nothing unfinished watched, yet or any more: no connection, no timer. */
      state: 'idle';
    }
  | {
      /** A transport starts, or retries after a failure. */
      state: 'connecting';
      /** The transport trying. */
      transport: TransportKind;
      /** Failures in a row so far; `0` on a first start. */
      attempt: number;
      /** The last failure, when retrying. */
      error?: HeyGenError;
    }
  | {
      /** A stream is connected, or a poll answered. */
      state: 'open';
      /** The transport delivering. */
      transport: TransportKind;
    }
  | {
      /** Disposed, or given up. */
      state: 'closed';
      /** Why it gave up; absent after dispose(). */
      error?: HeyGenError;
    };

/**
 * Bounds of one call to the server (createJob, cancelJob, getJob). Lost answers, 502, 503, 504,
 * and 429 or 500 with `Retry-After` are retried, at most `maxRetries` times, with backoff.
 */
export interface CallOptions {
  /**
   * Reject with a TimeoutError once the call, retries included, has taken this many ms.
   * @default 10000
   */
  timeout?: number;
  /** Reject with an AbortError when this signal aborts. */
  signal?: AbortSignal;
}

/** Options of {@link HeyGenAPI.createJob}: steer the simulated job, and bound the call. */
export interface CreateJobOptions extends CallOptions {
  /** Run time in ms instead of the server's JOB_TIME. */
  duration?: number;
  /** `true`: the job ends as `failed`. */
  fail?: boolean;
  /**
   * An absolute http(s) URL the server POSTs the job's changes to, signed per Standard Webhooks
   * and retried until it answers 2xx; check each request with `verifyWebhook` from
   * `heygen-lib/webhooks`. A server refuses a loopback or private address unless it allows them.
   * @example 'https://example.com/hooks/heygen'
   */
  webhook?: string;
  /**
   * The changes sent to `webhook`; `progress` is every change while the job runs after its start.
   * Only with `webhook`: without it the server answers 400 `INVALID_BODY`.
   * @default ['completed', 'failed', 'cancelled'] (the server's default: the final ones)
   */
  webhookEvents?: ('running' | 'progress' | 'completed' | 'failed' | 'cancelled')[];
  /**
   * A deadline from the creation: a job not finished by then ends `cancelled` with error code
   * `DEADLINE`. Seconds, or a duration such as `'90s'`, `'5m'`, `'1h30m'` (sent as `Cancel-After`).
   */
  cancelAfter?: number | string;
  /**
   * Seconds: the job ends `cancelled` with error code `UNWATCHED` once no stream, status read or
   * held wait has watched it for that long, so work nobody waits for any more stops.
   */
  cancelWhenUnwatched?: number;
}

/** Options of {@link HeyGenAPI.waitForJob}. */
export interface WaitForJobOptions {
  /** Reject with a TimeoutError after this many ms; no default: a wait lasts as long as the job. */
  timeout?: number;
  /** Reject with an AbortError when this signal aborts. */
  signal?: AbortSignal;
  /** Called with every newer version of the job (status or progress). */
  onProgress?: (job: Job) => void;
}

/** Cost counters of one channel. */
export interface ChannelStats {
  /** HTTP requests made (stream opens included). */
  requests: number;
  /** Response bytes received (event data only for an EventSource). */
  bytes: number;
  /** Event streams opened. */
  streams: number;
}

/** What status tracking has cost so far; see {@link HeyGenAPI.stats}. */
export interface HeyGenStats {
  /** Event streams (EventSource or streaming fetch). */
  sse: ChannelStats;
  /** Batched polling. */
  poll: ChannelStats;
  /** create, cancel, getJob and job lookups. */
  api: ChannelStats;
  /** Switches from SSE to POLL after a disruption. */
  fallbacks: number;
  /** Returns from POLL to SSE after a fallback. */
  upgrades: number;
}
