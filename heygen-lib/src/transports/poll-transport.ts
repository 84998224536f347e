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
 * chained timeouts, never an interval, so they cannot overlap. A tick goes out when the soonest
 * job is due, never sooner than the budget (`pollInterval`) after the last one: the server's
 * hint (`X-Next-Poll-Ms`) says when for the jobs it answered about, and the host knows when a
 * newly watched job is due (from its createJob answer, or now when it knows nothing). Gives up
 * after `retries` failures in a row.
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
  /** The ids the last answer covered, and when its hint says to ask about them again. */
  let asked = new Set<number>();
  let hintAt = Infinity;
  /** Failures in a row. */
  let attempt = 0;
  /** The last poll was answered: `open` is reported once per recovery, not per tick. */
  let answered = false;
  let closed = false;
  /** Aborts the request in flight on close(), so nothing outlives the transport. */
  const stop = new AbortController();

  /** Run a tick after `delay` ms, unless one is already due sooner. */
  const schedule = (delay: number): void => {
    const at = Date.now() + clampDelay(delay);
    if (closed || (timer !== undefined && due <= at)) return;
    clearTimeout(timer);
    due = at;
    timer = setTimeout(() => void tick(), at - Date.now());
  };

  /** The next tick: when the soonest watched job is due, within the budget. */
  const plan = (): void => {
    const ids = host.ids();
    if (!ids.length) return; // idle until wake()
    let at = hintAt;
    for (const id of ids) if (!asked.has(id)) at = Math.min(at, host.dueAt(id));
    // [protocol] Wait max(own minimum interval, X-Next-Poll-Ms): ask once after a job is due.
    schedule(Math.max(last + host.pollInterval, at) - Date.now());
  };

  const tick = async (): Promise<void> => {
    timer = undefined;
    const ids = host.ids();
    if (!ids.length) return; // idle until wake()
    busy = true;
    last = Date.now();
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
      asked = new Set(ids);
      // No hint: ask again once the budget allows.
      hintAt = Date.now() + clampDelay(hint);
      if (!answered) {
        answered = true;
        onState({ state: 'open', transport: 'poll' });
        if (closed) return;
      }
      jobs.forEach(host.update);
      if (missing.length) host.missing(missing);
      busy = false;
      plan();
    } catch (cause) {
      busy = false;
      if (closed) return;
      // Anything but a HeyGenError here is an answer of the wrong shape.
      const error = isHeyGenError(cause) ? cause : new MessageParseError('batch', cause);
      if (error instanceof MessageParseError) host.error(error, ids);
      answered = false;
      reportFailure('poll', retries, onState, error, ++attempt, transport.close);
      if (!closed) schedule(backoff(attempt, host.retryDelay));
    }
  };

  const transport: Transport = {
    start: () => {
      onState({ state: 'connecting', transport: 'poll', attempt });
      plan();
    },
    // During a backoff or a tick in flight, new ids wait like the others.
    wake: () => {
      if (!busy && !attempt) plan();
    },
    close: () => {
      closed = true;
      clearTimeout(timer);
      stop.abort();
    },
  };
  return transport;
};
