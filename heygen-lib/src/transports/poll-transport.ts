import { backoff } from '../backoff.js';
import { isHeyGenError } from '../errors/heygen-error.js';
import { MessageParseError } from '../errors/message-parse-error.js';
import type { Job } from '../types.js';
import type { Transport, TransportHost } from './transport.js';

/**
 * Polling: one batched `GET /status?ids=…` per tick for every watched unfinished job. Ticks are
 * chained timeouts, never an interval, so they cannot overlap.
 */
export const createPollTransport = (h: TransportHost): Transport => {
  let timer: ReturnType<typeof setTimeout> | undefined;
  /** When the pending timer fires. */
  let due = 0;
  /** When the last tick began: the budget counts from there. */
  let last = -Infinity;
  let busy = false;
  /** Ids were added since the last tick began: their hint is unknown yet. */
  let fresh = false;
  /** Failures in a row. */
  let attempt = 0;
  let closed = false;

  /** Run a tick after `delay` ms, unless one is already due sooner. */
  const schedule = (delay: number): void => {
    const at = Date.now() + delay;
    if (closed || (timer !== undefined && due <= at)) return;
    clearTimeout(timer);
    due = at;
    timer = setTimeout(() => void tick(), delay);
  };

  const tick = async (): Promise<void> => {
    timer = undefined;
    const ids = h.ids();
    if (!ids.length) return; // idle until wake()
    busy = true;
    fresh = false;
    last = Date.now();
    let delay: number;
    try {
      const { data, hint } = await h.http.send('poll', 'GET', '/status', `&ids=${ids.join()}`);
      if (closed) return;
      const { jobs, missing } = data as { jobs: Job[]; missing: number[] };
      attempt = 0;
      h.up(transport);
      jobs.forEach(h.update);
      if (missing.length) h.missing(missing);
      // [protocol] Wait max(own minimum interval, X-Next-Poll-Ms): ask once after a job is due.
      delay = Math.max(h.pollInterval, fresh ? 0 : (hint ?? 0));
    } catch (cause) {
      if (closed) return;
      // Anything but a HeyGenError here is an answer of the wrong shape.
      const error = isHeyGenError(cause) ? cause : new MessageParseError('batch', cause);
      if (error instanceof MessageParseError) h.error(error, ids);
      // Given up (or replaced): a later wake() starts afresh.
      if (!h.down(transport, error, ++attempt)) return void (attempt = 0);
      delay = backoff(attempt, h.retryDelay);
    } finally {
      busy = false;
    }
    schedule(delay);
  };

  const transport: Transport = {
    kind: 'poll',
    start: () => schedule(0),
    wake: () => {
      fresh = true;
      // During a backoff, new ids wait like the others; otherwise only the budget holds them.
      if (!busy && !attempt) schedule(last + h.pollInterval - Date.now());
    },
    close: () => {
      closed = true;
      clearTimeout(timer);
    },
  };
  return transport;
};
