import { backoff } from '../backoff.js';
import { clampDelay } from '../delay.js';
import type { HeyGenError } from '../errors/heygen-error.js';
import { MessageParseError } from '../errors/message-parse-error.js';
import { asBatch } from '../answers.js';
import type { HeyGenAPIOptions } from '../types.js';
import {
  reportFailure,
  type StateListener,
  type Transport,
  type TransportHost,
} from './transport.js';

/**
 * Polling: one batched `GET /status?ids=…` per tick for every watched unfinished job. Ticks are
 * chained timeouts, never an interval. Gives up after `retries` failures in a row.
 *
 * A tick goes out when the soonest job is due, never sooner than the budget (`pollInterval`) after
 * the last one: the server's hint (`X-Next-Poll-Ms`) says when for the jobs it answered about, and
 * the host knows when a newly watched job is due (from its createJob answer, or now when it knows
 * nothing).
 *
 * Held waits (docs/design.md, "heygen-lib: held waits first"): unless `wait` is off, a poll asks
 * the server to hold it until a listed job finishes (`Prefer: wait`). While the server holds them
 * (`Preference-Applied`), a poll goes out 100 ms before the soonest job is due, and the next one at
 * once after an answer with news: the budget bounds every request but those. A job watched while a
 * poll is held is asked about, with the others, in a new poll before it is due, which aborts the
 * held one (a replacement is not replaced before its answer). A job never seen gets a plain look
 * first. A poll the server did not hold means plain polling, still asking (held waits resume when
 * the server holds one again); a held poll that fails (cut on its way by a proxy, or refused) is
 * asked again plainly, and polling stays plain until it stops (nothing watched, or back to SSE).
 */
export const createPollTransport = (
  host: TransportHost,
  retries: number,
  onState: StateListener,
  wait: HeyGenAPIOptions['wait'] = true,
): Transport => {
  /**
   * Seconds a poll asks the server to hold it (`true`: 25, below the 30 s many proxies give one
   * request); 0: plain polling (`wait` off, or a held poll failed).
   */
  let waitS = wait === true ? 25 : Number(wait);
  let timer: ReturnType<typeof setTimeout> | undefined;
  /** When the pending timer fires. */
  let due = 0;
  /** When the last request began: the budget counts from there (news frees it: -Infinity). */
  let last = -Infinity;
  /** The poll out (until answered); a newer one aborts it, close() too. */
  let request: AbortController | undefined;
  /** The poll out replaced another: it is not replaced in turn, so that its answer comes. */
  let replaced = false;
  /** The ids of the last request, and when the hint of its answer says to ask about them again. */
  let asked = new Set<number>();
  let hintAt = Infinity;
  /** The server held the last poll that asked it to (assumed until one is answered at once). */
  let held = true;
  /** Failures in a row. */
  let attempt = 0;
  /** The last poll was answered: `open` is reported once per recovery, not per tick. */
  let answered = false;
  let closed = false;

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
    if (at === Infinity) return; // every id is in the request in flight
    // [protocol] Wait max(own minimum interval, X-Next-Poll-Ms): ask once after a job is due.
    // Held: be there 100 ms before it is due, so that the poll is held when the job ends.
    const lead = waitS > 0 && held ? 100 : 0;
    schedule(Math.max(last + host.pollInterval, at - lead) - Date.now());
  };

  const tick = async (): Promise<void> => {
    timer = undefined;
    const ids = host.ids();
    if (!ids.length) return; // idle until wake()
    if (request && replaced) return; // its answer plans the next poll
    replaced = !!request;
    request?.abort();
    const current = (request = new AbortController());
    // Held, unless a job was never asked about and has no due time (unknown, or known from a
    // stream): a plain look first, so that its state, or that it is missing, comes at once.
    const prefer = waitS > 0 && ids.every((id) => asked.has(id) || host.dueAt(id));
    asked = new Set(ids);
    hintAt = Infinity;
    last = Date.now();
    try {
      const answer = await host.http.send({
        via: 'poll',
        method: 'GET',
        path: '/status',
        query: `&ids=${ids.join()}`,
        signal: current.signal,
        // [protocol] RFC 7240 `Prefer: wait`; the request's own bound outlasts the wait.
        ...(prefer && { headers: { Prefer: `wait=${waitS}` }, timeout: (waitS + 5) * 1000 }),
      });
      if (current.signal.aborted) return; // closed, or replaced
      request = undefined;
      const { jobs, missing } = asBatch(answer.data);
      attempt = 0;
      if (prefer) held = answer.held;
      if (!answered) {
        answered = true;
        onState({ state: 'open', transport: 'poll' });
        if (closed) return;
      }
      jobs.forEach(host.update);
      if (missing.length) host.missing(missing);
      // No hint: ask again once the budget allows.
      hintAt = Date.now() + clampDelay(answer.hint);
      // News (an id asked about finished or went missing, as the registry sees it, so that no
      // server can make the library spin; or a plain look) frees the budget of held polls.
      const watched = new Set(host.ids());
      if (waitS > 0 && held && (!prefer || ids.some((id) => !watched.has(id)))) {
        last = -Infinity;
      }
      plan();
    } catch (cause) {
      if (current.signal.aborted) return;
      request = undefined;
      // http.send and asBatch reject with a HeyGenError, and listeners' throws never get here.
      const error = cause as HeyGenError;
      if (error instanceof MessageParseError) host.error(error, ids);
      answered = false;
      // A held poll that fails (cut on its way by a proxy's timeout, or refused) is not counted:
      // it is asked again soon, plainly, and polling stays plain. A plain poll failing counts.
      if (prefer) waitS = 0;
      else attempt++;
      reportFailure('poll', retries, onState, error, attempt, transport.close);
      schedule(backoff(attempt, host.retryDelay));
    }
  };

  const transport: Transport = {
    start: () => {
      onState({ state: 'connecting', transport: 'poll', attempt });
      plan();
    },
    // During a backoff, new ids wait like the others. A held poll may be out for long: a new id
    // due before it returns is asked about in a new poll.
    wake: () => {
      if (!attempt) plan();
    },
    close: () => {
      closed = true;
      clearTimeout(timer);
      request?.abort();
    },
  };
  return transport;
};
