import { backoff } from '../backoff.js';
import { clampDelay } from '../delay.js';
import { isHeyGenError } from '../errors/heygen-error.js';
import { MessageParseError } from '../errors/message-parse-error.js';
import { asBatch } from '../answers.js';
import {
  reportFailure,
  type StateListener,
  type Transport,
  type TransportHost,
} from './transport.js';

/**
 * Polling: one batched `GET /status?ids=…` per tick for every watched unfinished job. Ticks are
 * chained timeouts, never an interval, so they cannot overlap. Gives up after `retries` failures
 * in a row.
 */
export const createPollTransport = (
  host: TransportHost,
  retries: number,
  onState: StateListener,
): Transport => {
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
  /** The last poll was answered: `open` is reported once per recovery, not per tick. */
  let answered = false;
  let closed = false;
  /** Aborts the request in flight on close(), so nothing outlives the transport. */
  const stop = new AbortController();

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
    const ids = host.ids();
    if (!ids.length) return; // idle until wake()
    busy = true;
    fresh = false;
    last = Date.now();
    let delay: number;
    try {
      const { data, hint } = await host.http.send({
        via: 'poll',
        method: 'GET',
        path: '/status',
        query: `&ids=${ids.join()}`,
        signal: stop.signal,
      });
      if (closed) return;
      const { jobs, missing } = asBatch(data);
      attempt = 0;
      if (!answered) {
        answered = true;
        onState({ state: 'open', transport: 'poll' });
        if (closed) return;
      }
      jobs.forEach(host.update);
      if (missing.length) host.missing(missing);
      // [protocol] Wait max(own minimum interval, X-Next-Poll-Ms): ask once after a job is due.
      delay = clampDelay(fresh ? 0 : hint, host.pollInterval);
    } catch (cause) {
      if (closed) return;
      // Anything but a HeyGenError here is an answer of the wrong shape.
      const error = isHeyGenError(cause) ? cause : new MessageParseError('batch', cause);
      if (error instanceof MessageParseError) host.error(error, ids);
      answered = false;
      reportFailure('poll', retries, onState, error, ++attempt, transport.close);
      if (closed) return;
      delay = backoff(attempt, host.retryDelay);
    } finally {
      busy = false;
    }
    schedule(delay);
  };

  const transport: Transport = {
    start: () => {
      onState({ state: 'connecting', transport: 'poll', attempt });
      schedule(0);
    },
    wake: () => {
      fresh = true;
      // During a backoff, new ids wait like the others; otherwise only the budget holds them.
      if (!busy && !attempt) schedule(last + host.pollInterval - Date.now());
    },
    close: () => {
      closed = true;
      clearTimeout(timer);
      stop.abort();
    },
  };
  return transport;
};
