import { HttpError } from './errors/http-error.js';
import { JobNotFoundError } from './errors/job-not-found-error.js';
import { MessageParseError } from './errors/message-parse-error.js';
import type { Log } from './logger.js';
import type { ChannelStats, FetchLike, HeyGenStats } from './types.js';

/** A parsed answer: its JSON body and the server's poll hint, if any. */
export interface Answer {
  data: unknown;
  hint: number | undefined;
}

/** Every request of one HeyGenAPI instance goes through here, so every request is counted. */
export interface Http {
  /** Live counters; HeyGenAPI.stats() hands out copies. */
  readonly stats: HeyGenStats;
  readonly fetch: FetchLike;
  readonly log: Log;
  readonly apiKey: string | undefined;
  /** Headers every request carries. */
  readonly headers: Record<string, string>;
  /** The absolute URL of `path` for this client; `query` starts with `&`. */
  url(path: string, query?: string): string;
  /**
   * One JSON request. Rejects with HttpError (status 0 when nothing came back), JobNotFoundError
   * for a 404 about `jobId`, or MessageParseError for a success that is not JSON.
   */
  send(
    via: 'api' | 'poll',
    method: string,
    path: string,
    query?: string,
    body?: string,
    headers?: Record<string, string>,
    jobId?: number,
  ): Promise<Answer>;
}

const channel = (): ChannelStats => ({ requests: 0, bytes: 0, streams: 0 });

export const createHttp = (
  base: string,
  clientId: string,
  fetch: FetchLike,
  log: Log,
  apiKey?: string,
): Http => {
  const stats: HeyGenStats = {
    sse: channel(),
    poll: channel(),
    api: channel(),
    fallbacks: 0,
    upgrades: 0,
  };
  const auth: Record<string, string> = apiKey ? { Authorization: `Bearer ${apiKey}` } : {};
  const url = (path: string, query = ''): string =>
    `${base.replace(/\/+$/, '')}${path}?uuid=${clientId}${query}`;
  return {
    stats,
    fetch,
    log,
    apiKey,
    headers: auth,
    url,
    async send(via, method, path, query, body, headers, jobId) {
      stats[via].requests++;
      let status: number;
      let hint: string | null;
      let text: string;
      try {
        const res = await fetch(url(path, query), {
          method,
          // Content-Type only with a body: on a GET it would cost browsers a CORS preflight.
          headers: {
            Accept: 'application/json',
            ...(body && { 'Content-Type': 'application/json' }),
            ...auth,
            ...headers,
          },
          body,
          // A server that accepts the request but never answers must not freeze polling.
          signal: AbortSignal.timeout(30_000),
        });
        status = res.status;
        hint = res.headers.get('x-next-poll-ms');
        text = await res.text();
      } catch (error) {
        throw new HttpError(0, `No answer: ${path}`, undefined, error);
      }
      stats[via].bytes += text.length;
      let data: unknown;
      try {
        data = text ? JSON.parse(text) : undefined;
      } catch (error) {
        if (status < 400) throw new MessageParseError(text, error);
      }
      if (status >= 400) {
        const { code, message } = (data ?? {}) as { code?: string; message?: string };
        throw status === 404 && jobId && code === 'JOB_NOT_FOUND'
          ? new JobNotFoundError(jobId)
          : new HttpError(status, `${path}: ${message ?? status}`, code);
      }
      return { data, hint: hint === null ? undefined : +hint };
    },
  };
};
