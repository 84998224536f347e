import { backoff } from '../backoff.js';
import { clampDelay, elapsedNow } from '../delay.js';
import type { HeyGenError } from '../errors/heygen-error.js';
import type { HttpError } from '../errors/http-error.js';
import { MessageParseError } from '../errors/message-parse-error.js';
import { asBatch, MAX_IDS_PER_REQUEST } from '../answers.js';
import type { HeyGenAPIOptions } from '../types.js';
import {
  reportFailure,
  type StateListener,
  type Transport,
  type TransportHost,
} from './transport.js';

/**
 * Plain polling waits this many ms after the first job is due, and asks about every job due by
 * then in the same request: a burst of jobs (created together, their createJob answers spread over
 * tens of ms) costs about a request per 20 ms of spread instead of one per job, and each job is
 * learned at most 20 ms after it is due, never asked before (its budget is not spent early).
 */
const GROUP_MS = 20;

/** Plain polls answered after a held one failed, before held waits are tried again. */
const PLAIN_BEFORE_HELD = 3;

/**
 * Polling: batched `GET /status?ids=…` requests. Ticks are chained timeouts, never an interval.
 * Gives up after `retries` failures in a row.
 *
 * Plain polling (`wait` off, or the server not holding): the budget (`pollInterval`) is per job,
 * as the seed's was: a job is asked about again only `pollInterval` after it was last asked. A
 * tick goes out {@link GROUP_MS} after the moment some watched job is both due (the hint,
 * `X-Next-Poll-Ms`, of the last answer about it, or what the host knows: its createJob answer, or
 * nothing, i.e. at once) and outside its budget; it asks about the jobs that are so by then, and
 * no other (a job not yet due keeps its budget). One plain poll is out at a time: the jobs due
 * while it is out go together after its answer. A failed poll spends no budget: its jobs are asked
 * about again after the backoff.
 *
 * Held waits (docs/design.md, "heygen-lib: held waits first"): unless `wait` is off, a poll asks
 * the server to hold it until a listed job finishes (`?wait=`, the query form of `Prefer: wait`).
 * While the server holds them (`Preference-Applied`), a poll asks about every watched job; it goes
 * out 100 ms before the soonest job is due, and the next one at once after an answer with news: the
 * budget, per request here, bounds every request but those. A job watched while a poll is held is
 * asked about, with the others, in a new poll before it is due, which aborts the held one: any poll
 * that asked to be held may be replaced, and the replacement is plain, so its answer comes at once
 * and it is not replaced in turn. A job never seen gets a plain look first. A poll the server did
 * not hold means plain polling, still asking (held waits resume when the server holds one again); a
 * held poll that fails (cut on its way by a proxy, or refused) is asked again plainly, and polling
 * stays plain for {@link PLAIN_BEFORE_HELD} answered polls, then holds again (one passing 502
 * turned held waits off for as long as anything was watched). Polling plainly, a job created with
 * `cancelWhenUnwatched` is read within its watch period whatever the budget, and a failure that
 * says `Retry-After` is asked again no sooner than that.
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
  const askedWaitS = wait === true ? 25 : Number(wait);
  let waitS = askedWaitS;
  /** Plain polls answered since a held one failed. */
  let plainAnswered = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  /** When the pending timer fires. */
  let due = 0;
  /** When the last request began: held polls' budget counts from there (news frees it). */
  let last = -Infinity;
  /** The poll out (until answered); a newer held one aborts it, close() too. */
  let request: AbortController | undefined;
  /** The poll out replaced another: it is plain, answered at once, and not replaced in turn. */
  let replaced = false;
  /**
   * The poll out asked the server to hold it: a newer poll may replace it, whatever polling is now
   * (a server may hold a poll it said it would not, or a proxy may drop `Preference-Applied`).
   */
  let askedToHold = false;
  /**
   * Per watched job asked about: when it was last asked, and when it is due (the hint of the
   * answer that covered it; Infinity until that answer comes).
   */
  const polled = new Map<number, [askedAt: number, dueAt: number]>();
  /** The server held the last poll that asked it to (assumed until one is answered at once). */
  let held = true;
  /** Failures in a row. */
  let attempt = 0;
  /** The last poll was answered: `open` is reported once per recovery, not per tick. */
  let answered = false;
  let closed = false;

  /**
   * More jobs watched than one request may list: polling is plain, so that each is asked about in
   * its turn (a held poll names every watched job).
   */
  let crowded = false;

  /** Plain polling: every request but a held one's. */
  const plain = (): boolean => !(waitS > 0 && held) || crowded;

  /** When a job may be asked about: when it is due, and, polling plainly, outside its budget. */
  const readyAt = (id: number): number => {
    // A job with no due time (0) is due since ever.
    const [askedAt, dueAt] = polled.get(id) ?? [-Infinity, host.dueAt(id) || -Infinity];
    // The budget gives way to a job's watch period: it must be read before the server cancels it.
    const budget = askedAt + Math.min(host.pollInterval, host.watchWithin?.(id) ?? Infinity);
    return Math.max(dueAt, plain() ? budget : dueAt);
  };

  /** Run a tick after `delay` ms, unless one is already due sooner. */
  const schedule = (delay: number): void => {
    const at = elapsedNow() + clampDelay(delay);
    if (closed || (timer !== undefined && due <= at)) return;
    clearTimeout(timer);
    due = at;
    timer = setTimeout(() => void tick(), at - elapsedNow());
  };

  /** The next tick: when the soonest watched job may be asked about. */
  const plan = (): void => {
    const ids = host.ids();
    crowded = ids.length > MAX_IDS_PER_REQUEST;
    const first = Math.min(...ids.map(readyAt));
    // Infinity: nothing watched (idle until wake()), or every id being asked about.
    // [protocol] Wait max(own minimum interval, X-Next-Poll-Ms): ask once after a job is due.
    // Plain: GROUP_MS after the first job is due, with every job due by then. Held: be there
    // 100 ms before it is due, so that the poll is held when the job ends.
    if (first < Infinity) {
      schedule(
        (plain() ? first + GROUP_MS : Math.max(last + host.pollInterval, first - 100)) -
          elapsedNow(),
      );
    }
  };

  const tick = async (): Promise<void> => {
    timer = undefined;
    const watched = host.ids();
    crowded = watched.length > MAX_IDS_PER_REQUEST;
    const holding = !plain();
    // Plain: the jobs that may be asked about when this tick was due (a timer may fire a ms early).
    let ids = watched.filter((id) => holding || readyAt(id) <= due);
    // More than one request may list: the longest due first; the rest go right after its answer.
    if (ids.length > MAX_IDS_PER_REQUEST) {
      ids = ids.sort((a, b) => readyAt(a) - readyAt(b)).slice(0, MAX_IDS_PER_REQUEST);
    }
    if (!ids.length) return plan(); // idle until wake(), or not yet
    // Its answer plans the next poll. Plain: one poll out at a time, the jobs due meanwhile go
    // together after it.
    if (request && (replaced || !askedToHold)) return;
    replaced = !!request;
    if (request) {
      request.abort();
      // The poll replaced returns without its answer: its marks (asked, due at Infinity) on jobs
      // this one does not ask about again would keep them from ever being due (issue 13, found
      // by heygen-api.property.test.ts).
      for (const [id, [, dueAt]] of polled)
        if (dueAt === Infinity && !ids.includes(id)) polled.delete(id);
    }
    const current = (request = new AbortController());
    // Held, unless a job was never asked about and has no due time (unknown, or known from a
    // stream): a plain look first, so that its state, or that it is missing, comes at once. A
    // replacement is plain too: a job watched while it is out waits for no hold (review of
    // 2026-12-01: one waited 7.5 s behind a held replacement); the held poll follows its answer.
    // Crowded, never: a held poll of one share would keep the others from being asked about
    // (review of 2026-12-01: the last of 600 jobs was heard of 40 s after it finished).
    const prefer =
      !crowded && !replaced && waitS > 0 && ids.every((id) => polled.has(id) || host.dueAt(id));
    askedToHold = prefer;
    const askedAt = (last = elapsedNow());
    for (const id of ids) polled.set(id, [askedAt, Infinity]);
    try {
      const answer = await host.http.send({
        via: 'poll',
        method: 'GET',
        path: '/status',
        // [protocol] `wait`, the query form of RFC 7240 `Prefer: wait`: a header would cost a
        // browser a CORS preflight for each new list of ids.
        query: `&ids=${ids.join()}${prefer ? `&wait=${waitS}` : ''}`,
        signal: current.signal,
        // The request's own bound outlasts the wait.
        ...(prefer && { timeout: (waitS + 5) * 1000 }),
      });
      if (current.signal.aborted) return; // closed, or replaced
      request = undefined;
      const { jobs, missing } = asBatch(answer.data);
      attempt = 0;
      if (prefer) held = answer.held;
      else if (!waitS && ++plainAnswered >= PLAIN_BEFORE_HELD) waitS = askedWaitS;
      if (!answered) {
        answered = true;
        onState({ state: 'open', transport: 'poll' });
        if (closed) return;
      }
      jobs.forEach(host.update);
      if (missing.length) host.missing(missing);
      // No hint: ask again once the budget allows. A job that asked to be cancelled once unwatched
      // is read again in time (`cancelWhenUnwatched`).
      const answeredAt = elapsedNow();
      const dueAt = answeredAt + clampDelay(answer.hint);
      const stillWatched = new Set(host.ids());
      // A job no longer watched is forgotten (all are, with the transport, once none is watched).
      for (const id of ids) {
        if (stillWatched.has(id)) {
          polled.set(id, [
            askedAt,
            Math.min(dueAt, answeredAt + (host.watchWithin?.(id) ?? Infinity)),
          ]);
        } else polled.delete(id);
      }
      // News (an id asked about finished or went missing, as the registry sees it, so that no
      // server can make the library spin; or a plain look) frees the budget of held polls.
      if (!plain() && (!prefer || ids.some((id) => !stillWatched.has(id)))) last = -Infinity;
      plan();
    } catch (cause) {
      if (current.signal.aborted) return;
      request = undefined;
      // http.send and asBatch reject with a HeyGenError, and listeners' throws never get here.
      const error = cause as HeyGenError;
      if (error instanceof MessageParseError) host.error(error, ids);
      answered = false;
      // A failed poll spends no budget: its jobs are asked about again after the backoff (those
      // not due yet, when they are due).
      for (const id of ids) polled.delete(id);
      // A held poll that fails (cut on its way by a proxy's timeout, or refused) is not counted:
      // it is asked again soon, plainly, and polling stays plain. A plain poll failing counts.
      if (prefer) {
        waitS = 0;
        plainAnswered = 0;
      } else attempt++;
      reportFailure('poll', retries, onState, error, attempt, transport.close);
      schedule(Math.max(backoff(attempt, host.retryDelay), (error as HttpError).retryAfterMs ?? 0));
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
