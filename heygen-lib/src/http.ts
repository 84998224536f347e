import { linkSignals, untilAborted } from './abort.js';
import { isHeyGenError } from './errors/heygen-error.js';
import { HttpError } from './errors/http-error.js';
import { JobNotFoundError } from './errors/job-not-found-error.js';
import { MessageParseError } from './errors/message-parse-error.js';
import type { Log } from './logger.js';
import type {
  ChannelStats,
  FetchLike,
  HeyGenAPIOptions,
  HeyGenStats,
  ResponseLike,
} from './types.js';

/** A parsed answer: its JSON body, the server's poll hint, if any, and whether it was held. */
export interface Answer {
  data: unknown;
  hint: number | undefined;
  /** [protocol] The server applied the held wait (`Preference-Applied: wait=<s>`). */
  held: boolean;
}

/** One JSON request; see {@link Http.send}. */
export interface Request {
  /** The channel its cost is counted under in stats(). */
  via: 'api' | 'poll';
  method: string;
  path: string;
  /** Starts with `&`; the client id comes first. */
  query?: string;
  body?: string | undefined;
  headers?: Record<string, string>;
  /** A 404 with `JOB_NOT_FOUND` about this id becomes a JobNotFoundError. */
  jobId?: number;
  /** Cut the request after this many ms instead of {@link REQUEST_TIMEOUT} (a held poll's own bound). */
  timeout?: number;
  /** Aborts the request; a HeyGenError reason is what the request rejects with. */
  signal?: AbortSignal;
}

/** Every request of one HeyGenAPI instance goes through here, so every request is counted. */
export interface Http {
  /** Live counters; HeyGenAPI.stats() hands out copies. */
  readonly stats: HeyGenStats;
  readonly fetch: FetchLike;
  readonly log: Log;
  /**
   * The headers every request and stream carries now: `apiKey`'s `Authorization`, then the
   * `headers` option's. A record when the option is not a function (so an EventSource opens at
   * once); a promise, rejecting with the function's error, when it is one.
   */
  readonly headers: () => Record<string, string> | Promise<Record<string, string>>;
  /** The absolute URL of `path` for this client; `query` starts with `&`. */
  url(path: string, query?: string): string;
  /**
   * One JSON request, cut after its `timeout` or {@link REQUEST_TIMEOUT} ms. Rejects with
   * HttpError (status 0 when nothing came back or the headers function failed; `retryAfterMs`
   * from a `Retry-After` header), JobNotFoundError for a 404 about `jobId`, MessageParseError for
   * a success that is not JSON, or the signal's reason.
   */
  send(request: Request): Promise<Answer>;
}

/** A server that accepts a request but never answers must not freeze a call or polling. */
export const REQUEST_TIMEOUT = 30_000;

/**
 * The most bytes of an answer read: a batch of 1,000 jobs is about 400 KB. A larger body (a gzip
 * bomb inflates 1 MB into 1 GB) is cut there, and the answer is no answer.
 */
export const MAX_ANSWER_BYTES = 1 << 20;

/** The body as text, or undefined past {@link MAX_ANSWER_BYTES}, read no further. */
const readBounded = async (res: ResponseLike, signal: AbortSignal): Promise<string | undefined> => {
  // A fetch of the caller's whose body is no web stream (node-fetch's is a Node stream): read
  // whole, then measured.
  const reader = typeof res.body?.getReader === 'function' ? res.body.getReader() : undefined;
  if (!reader) {
    const text = await untilAborted(res.text(), signal);
    return text.length > MAX_ANSWER_BYTES ? undefined : text;
  }
  const decoder = new TextDecoder();
  let text = '';
  for (let bytes = 0; ;) {
    const { done, value } = await untilAborted(reader.read(), signal);
    if (done) return text + decoder.decode();
    bytes += value?.length ?? 0;
    if (bytes > MAX_ANSWER_BYTES) {
      reader.cancel().catch(() => {});
      return undefined;
    }
    text += decoder.decode(value, { stream: true });
  }
};

/** What a browser's "failed" may mean. */
const CORS_HINT = "unreachable, or refused by CORS (is this origin in the server's CORS_ORIGINS?)";

/**
 * Why a request got no answer, in a word a person can act on: the system's code from the cause
 * chain (`ECONNREFUSED`, `ENOTFOUND`, a TLS code), else the innermost message. A browser gives no
 * code, and tells scripts nothing more than "failed" (the error's `cause`) for a refused
 * connection and a CORS refusal alike: the browser build (`MODE`, replaced when Vite builds) says
 * what that may mean, and leaves the cause chain out.
 */
const why = (error: unknown): string => {
  if (import.meta.env.MODE === 'browser') return CORS_HINT;
  let message = 'network error';
  for (let cause = error; cause instanceof Error; cause = cause.cause) {
    const { code } = cause as { code?: unknown };
    if (typeof code === 'string') return code;
    message = cause.message;
  }
  return typeof document === 'undefined' ? message : `${message}: ${CORS_HINT}`;
};

/** [RFC 9110] `Retry-After` is a number of seconds or an HTTP date. */
const parseRetryAfter = (value: string | null): number | undefined => {
  if (!value) return undefined;
  const ms = /^\d+$/.test(value) ? +value * 1000 : Date.parse(value) - Date.now();
  return Number.isNaN(ms) ? undefined : Math.max(0, ms);
};

const channel = (): ChannelStats => ({ requests: 0, bytes: 0, streams: 0 });

export const createHttp = (
  base: string,
  clientId: string,
  fetch: FetchLike,
  log: Log,
  { apiKey, headers: extra }: Pick<HeyGenAPIOptions, 'apiKey' | 'headers'> = {},
): Http => {
  const stats: HeyGenStats = {
    sse: channel(),
    poll: channel(),
    api: channel(),
    fallbacks: 0,
    upgrades: 0,
  };
  const auth: Record<string, string> = apiKey ? { Authorization: `Bearer ${apiKey}` } : {};
  const root = base.replace(/\/+$/, '');
  const url = (path: string, query = ''): string =>
    `${root}${path}?uuid=${encodeURIComponent(clientId)}${query}`;
  // Issue 19: a function is called for every request, so a token that expired is refreshed.
  // Async, so that what it throws comes back as a rejection.
  const current = (): Record<string, string> | Promise<Record<string, string>> =>
    typeof extra === 'function'
      ? (async () => ({ ...auth, ...(await extra()) }))()
      : { ...auth, ...extra };
  return {
    stats,
    fetch,
    log,
    headers: current,
    url,
    async send({ via, method, path, query, body, headers, jobId, signal, timeout }) {
      stats[via].requests++;
      const bound = linkSignals([signal], timeout ?? REQUEST_TIMEOUT);
      let status: number;
      let hint: string | null;
      let applied: string | null;
      let retryAfter: string | null;
      let text: string | undefined;
      let common: Record<string, string> | undefined;
      try {
        // Inside the request's bound: a function that never settles is cut like a request.
        common = await untilAborted(Promise.resolve(current()), bound.signal);
        const res = await untilAborted(
          fetch(url(path, query), {
            method,
            // Content-Type only with a body: on a GET it would cost browsers a CORS preflight.
            headers: {
              ...common,
              Accept: 'application/json',
              ...(body && { 'Content-Type': 'application/json' }),
              ...headers,
            },
            body,
            signal: bound.signal,
          }),
          bound.signal,
        );
        status = res.status;
        hint = res.headers.get('x-next-poll-ms');
        applied = res.headers.get('preference-applied');
        retryAfter = res.headers.get('retry-after');
        text = await readBounded(res, bound.signal);
      } catch (error) {
        // Aborted by the caller (dispose, its signal, its deadline): that reason, as it is.
        if (signal?.aborted && isHeyGenError(signal.reason)) throw signal.reason;
        // A headers function that failed is retried like a lost answer (issue 19): a token
        // service that is down for a moment must not fail a wait for good.
        const reason = common ? `no answer (${why(error)})` : 'headers function failed';
        throw new HttpError(0, `${method} ${root}${path}: ${reason}`, undefined, error);
      } finally {
        bound.release();
      }
      stats[via].bytes += text?.length ?? MAX_ANSWER_BYTES;
      // Too large, an error's body is left unread: the status says enough.
      if (text === undefined && status < 400) {
        throw new MessageParseError(`an answer over ${MAX_ANSWER_BYTES} bytes`);
      }
      let data: unknown;
      try {
        data = text ? JSON.parse(text) : undefined;
      } catch (error) {
        if (status < 400) throw new MessageParseError(String(text), error);
      }
      if (status >= 400) {
        const { code, message } = (data ?? {}) as { code?: string; message?: string };
        throw status === 404 && jobId && code === 'JOB_NOT_FOUND'
          ? new JobNotFoundError(jobId)
          : new HttpError(
              status,
              `${path}: ${message ?? status}`,
              code,
              undefined,
              parseRetryAfter(retryAfter),
            );
      }
      return { data, hint: hint === null ? undefined : +hint, held: applied !== null };
    },
  };
};
