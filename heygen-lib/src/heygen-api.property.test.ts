import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import { fakeClock } from 'heygen-test-support';
import { propertyParameters } from 'heygen-test-support/property';
import { FakeEventSource } from '../test/support/fakes.js';
import {
  HEARTBEAT_MS,
  JOBS,
  RANK,
  scriptedServer,
  type ScriptedServer,
} from '../test/support/scripted-server.js';
import {
  AbortError,
  HeyGenAPI,
  JobFailedError,
  JobNotFoundError,
  ListenerNotFoundError,
  MessageParseError,
  TimeoutError,
  isHeyGenError,
  type HeyGenStatusListenerMode,
  type Job,
  type JobStatus,
} from './index.js';

// A model-based test of HeyGenAPI (issue 13): random listen / stop / waitForJob / changeBackend /
// dispose calls, interleaved with a scripted server (job changes, replays, stream cuts and stalls,
// failing and held polls) on a fake clock. Whatever the order, listeners see each state at most
// once and only forward, every wait settles, nothing rejects unhandled, and dispose leaves no
// timer and no connection behind. Bugs it found are listed under "Known bugs".

/** A job id the server never had (its jobs are {@link JOBS}). */
const MISSING = 9;
const MODES: HeyGenStatusListenerMode[] = ['sse', 'poll', 'auto'];
const FINAL: JobStatus[] = ['completed', 'failed', 'cancelled'];
/** How long the healing phase may take: longer than any backoff (30 s) or held poll (30 s). */
const HEAL_STEPS = 90;

const setImmediateForReal = globalThis.setImmediate;

/** A small seeded PRNG (mulberry32) standing in for Math.random. */
const seededRandom = (seed: number) => (): number => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
};

type Server = ScriptedServer;

// --- The actions ---------------------------------------------------------------------------------

type Action =
  /** `throws`: the callback throws after each call, which the library must take in its stride. */
  | { do: 'listen'; job: number; throws: boolean }
  | { do: 'unsubscribe'; which: number }
  | { do: 'stop'; job: number }
  | { do: 'wait'; job: number; timeout: number | undefined; abortable: boolean }
  | { do: 'abortWait'; which: number }
  | { do: 'changeBackend'; mode: HeyGenStatusListenerMode }
  | { do: 'dispose' }
  | { do: 'advanceJob'; job: number; to: JobStatus }
  | { do: 'replay'; job: number }
  | { do: 'garble' }
  | { do: 'acceptStreams' }
  | { do: 'cutStream'; refused: boolean }
  | { do: 'stallStream' }
  | { do: 'failPolls'; how: '503' | 'network'; count: number }
  | { do: 'tick'; ms: number }
  /** One microtask turn: promises in flight move one step. */
  | { do: 'yield' };

const anyId = fc.constantFrom<number>(...JOBS, MISSING);
const jobId = fc.constantFrom<number>(...JOBS);

const action: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ do: fc.constant('listen'), job: anyId, throws: fc.boolean() }),
  },
  { weight: 1, arbitrary: fc.record({ do: fc.constant('unsubscribe'), which: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ do: fc.constant('stop'), job: anyId }) },
  {
    weight: 4,
    arbitrary: fc.record({
      do: fc.constant('wait'),
      job: anyId,
      timeout: fc.option(fc.constantFrom(0, 500, 5000), { nil: undefined }),
      abortable: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ do: fc.constant('abortWait'), which: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({ do: fc.constant('changeBackend'), mode: fc.constantFrom(...MODES) }),
  },
  { weight: 1, arbitrary: fc.constant({ do: 'dispose' as const }) },
  {
    weight: 5,
    arbitrary: fc.record({
      do: fc.constant('advanceJob'),
      job: jobId,
      to: fc.constantFrom<JobStatus>('running', ...FINAL),
    }),
  },
  { weight: 2, arbitrary: fc.record({ do: fc.constant('replay'), job: jobId }) },
  { weight: 1, arbitrary: fc.constant({ do: 'garble' as const }) },
  { weight: 4, arbitrary: fc.constant({ do: 'acceptStreams' as const }) },
  {
    weight: 2,
    arbitrary: fc.record({ do: fc.constant('cutStream'), refused: fc.boolean() }),
  },
  { weight: 1, arbitrary: fc.constant({ do: 'stallStream' as const }) },
  {
    weight: 2,
    arbitrary: fc.record({
      do: fc.constant('failPolls'),
      how: fc.constantFrom('503' as const, 'network' as const),
      count: fc.integer({ min: 1, max: 4 }),
    }),
  },
  {
    weight: 8,
    arbitrary: fc.record({ do: fc.constant('tick'), ms: fc.constantFrom(0, 50, 300, 1200, 6000) }),
  },
  { weight: 2, arbitrary: fc.constant({ do: 'yield' as const }) },
);

/** The client's options, the server's starting point, and the script. */
const scenario = fc.record({
  /** Seeds the library's backoff jitter (Math.random), so that a seed replays a run exactly. */
  jitter: fc.integer(),
  mode: fc.constantFrom(...MODES),
  eventSource: fc.boolean(),
  fallback: fc.boolean(),
  wait: fc.boolean(),
  holds: fc.boolean(),
  maxRetries: fc.integer({ min: 0, max: 3 }),
  // Mostly unfinished, so that listeners see jobs move.
  initial: fc.tuple(
    ...JOBS.map(() =>
      fc.constantFrom<JobStatus>('pending', 'pending', 'running', 'running', 'completed', 'failed'),
    ),
  ),
  finals: fc.tuple(...JOBS.map(() => fc.constantFrom(...FINAL))),
  // Scripts of any length up to 30, not mostly short ones.
  actions: fc.array(action, { maxLength: 30, size: 'max' }),
});
type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;

// --- What the client did and heard ----------------------------------------------------------------

/** What a listen() callback throws when the script says so. */
class CallbackError extends Error {}

/** One listen() callback and what it heard. */
interface Watcher {
  job: number;
  unsubscribe: () => void;
  statuses: JobStatus[];
  /** Unsubscribed, stopped, disposed, or told a fatal error: it must hear nothing more. */
  gone: boolean;
}

/** One waitForJob() and how it ended. */
interface Wait {
  job: number;
  timeout: number | undefined;
  /** Aborts the wait through its signal, when it has one. */
  abort: AbortController | undefined;
  settled: { value: Job } | { error: unknown } | undefined;
  revisions: number[];
}

/** A run: the instance, the server, what was recorded, and every broken rule. */
const newRun = (s: Scenario) => {
  FakeEventSource.instances = [];
  const server = scriptedServer(s.initial, s.holds);
  const broken: string[] = [];
  const watchers: Watcher[] = [];
  const waits: Wait[] = [];
  /** Throws of listen() callbacks, and how many of them reached onError. */
  const callbacks = { threw: 0, reported: 0 };
  const sut = new HeyGenAPI({
    url: 'http://api.test',
    clientId: '123e4567-e89b-42d3-a456-426614174000',
    mode: s.mode,
    fallback: s.fallback,
    wait: s.wait,
    maxRetries: s.maxRetries,
    retryDelay: 100,
    pollInterval: 1000,
    fetch: server.fetch,
    // Streams over an EventSource, or (null) over a streaming fetch.
    EventSource: s.eventSource ? FakeEventSource : null,
    // What the library handles and reports: its own errors, and what callbacks threw.
    onError: (error) => {
      if (error instanceof CallbackError) callbacks.reported++;
      else if (!isHeyGenError(error)) {
        broken.push(`onError heard a foreign error: ${String(error)}`);
      }
    },
  });
  return { sut, server, broken, watchers, waits, callbacks, mode: s.mode, disposed: false };
};
type Run = ReturnType<typeof newRun>;

/** The server's statuses of a job so far. */
const statusesOf = (server: Server, id: number): JobStatus[] =>
  (server.history.get(id) ?? []).map((job) => job.status);

const listen = (run: Run, job: number, throws = false): void => {
  const { sut, server, broken, watchers } = run;
  const watcher: Watcher = {
    job,
    unsubscribe: () => {},
    statuses: [],
    gone: false,
  };
  const callback = (id: number, status: JobStatus): void => {
    const last = watcher.statuses.at(-1);
    if (watcher.gone) {
      broken.push(`listener of ${job} heard ${status} after it was removed`);
    }
    if (id !== job) broken.push(`listener of ${job} heard about job ${id}`);
    if (last !== undefined && RANK[status] <= RANK[last]) {
      broken.push(`listener of ${job} heard ${status} after ${last}`);
    }
    if (!statusesOf(server, job).includes(status)) {
      broken.push(`listener of ${job} heard ${status}, a state the server never had`);
    }
    watcher.statuses.push(status);
    if (throws) {
      run.callbacks.threw++;
      throw new CallbackError();
    }
  };
  const onError = (error: unknown): void => {
    if (watcher.gone) broken.push(`listener of ${job} heard ${String(error)} after it was removed`);
    if (error instanceof JobNotFoundError && job !== MISSING) {
      broken.push(`listener of ${job}, a job the server has, heard ${String(error)}`);
    }
    // Everything but a message that did not parse removes the listener.
    if (!(error instanceof MessageParseError)) watcher.gone = true;
  };
  try {
    watcher.unsubscribe = sut.listen(job, callback, onError);
    if (run.disposed) broken.push('listen() after dispose() did not throw');
    watchers.push(watcher);
  } catch (error) {
    if (!(run.disposed && error instanceof AbortError)) {
      broken.push(`listen(${job}) threw ${String(error)}`);
    }
  }
};

const waitFor = (run: Run, job: number, timeout?: number, abortable = false): void => {
  const { sut, server, broken, waits } = run;
  const abort = abortable ? new AbortController() : undefined;
  const wait: Wait = { job, timeout, abort, settled: undefined, revisions: [] };
  waits.push(wait);
  const onProgress = (copy: Job): void => {
    if (wait.settled) broken.push(`wait for ${job} heard progress after it settled`);
    if (copy.revision <= (wait.revisions.at(-1) ?? 0)) {
      broken.push(`wait for ${job} heard revision ${copy.revision} after ${wait.revisions.at(-1)}`);
    }
    wait.revisions.push(copy.revision);
  };
  const options = {
    onProgress,
    ...(timeout !== undefined && { timeout }),
    ...(abort && { signal: abort.signal }),
  };
  sut.waitForJob(job, options).then(
    (value) => {
      wait.settled = { value };
      if (value.status !== 'completed' || server.current(job)?.status !== 'completed') {
        broken.push(`wait for ${job} resolved with ${value.status}`);
      }
    },
    (error: unknown) => {
      wait.settled = { error };
      const why = whyRejectionIsWrong(run, wait, error);
      if (why) broken.push(`wait for ${job} rejected with ${String(error)}: ${why}`);
    },
  );
};

/** Why a rejection is wrong, or undefined when it is one the library may give. */
const whyRejectionIsWrong = (run: Run, wait: Wait, error: unknown): string | undefined => {
  const final = run.server.current(wait.job)?.status;
  if (error instanceof JobFailedError) {
    return final === 'failed' || final === 'cancelled' ? undefined : `the job is ${final}`;
  }
  if (error instanceof JobNotFoundError) {
    return wait.job === MISSING ? undefined : 'the server has that job';
  }
  if (error instanceof TimeoutError) return wait.timeout === undefined ? 'no timeout' : undefined;
  if (error instanceof AbortError) {
    return run.disposed || wait.abort?.signal.aborted ? undefined : 'neither disposed nor aborted';
  }
  // A transport that gave up (SSEError, HttpError) may end a wait.
  return isHeyGenError(error) && !(error instanceof MessageParseError)
    ? undefined
    : 'not a final error of the library';
};

const stop = (run: Run, job: number): void => {
  const listening = run.watchers.filter((w) => w.job === job && !w.gone);
  try {
    run.sut.stop(job);
    if (!listening.length) run.broken.push(`stop(${job}) with no listener did not throw`);
  } catch (error) {
    if (listening.length || !(error instanceof ListenerNotFoundError)) {
      run.broken.push(`stop(${job}) threw ${String(error)}`);
    }
  }
  listening.forEach((w) => (w.gone = true));
};

const dispose = (run: Run): void => {
  run.sut.dispose();
  run.disposed = true;
  run.watchers.forEach((w) => (w.gone = true));
};

/** Runs one action; only `tick` and `yield` let time or microtasks pass. */
const perform = (
  run: Run,
  a: Action,
  clock: { advance(ms: number): Promise<void> },
): void | Promise<void> => {
  const { sut, server } = run;
  switch (a.do) {
    case 'listen':
      return listen(run, a.job, a.throws);
    case 'unsubscribe': {
      const watcher = run.watchers[a.which % Math.max(1, run.watchers.length)];
      watcher?.unsubscribe();
      if (watcher) watcher.gone = true;
      return;
    }
    case 'stop':
      return stop(run, a.job);
    case 'wait':
      return waitFor(run, a.job, a.timeout, a.abortable);
    case 'abortWait':
      return run.waits[a.which % Math.max(1, run.waits.length)]?.abort?.abort();
    case 'changeBackend':
      run.mode = a.mode;
      return sut.changeBackend(a.mode);
    case 'dispose':
      return dispose(run);
    case 'advanceJob':
      return server.advance(a.job, a.to);
    case 'replay':
      return server.replay(a.job);
    case 'garble':
      return server.garble();
    case 'acceptStreams':
      return server.acceptStreams();
    case 'cutStream':
      return server.cutStream(a.refused);
    case 'stallStream':
      return server.stallStream();
    case 'failPolls':
      server.failures.push(...Array<'503' | 'network'>(a.count).fill(a.how));
      return;
    case 'tick':
      return clock.advance(a.ms);
    case 'yield':
      return Promise.resolve();
  }
};

// --- Checks after the script -----------------------------------------------------------------------

/** Timers of the library: every one but the fake server's heartbeat. */
const libraryTimers = (serverTimers: number): number => vi.getTimerCount() - serverTimers;

const openRequests = (run: Run): number =>
  run.server.requests.filter((r) => !r.answered && !r.signal?.aborted).length;

/** Listeners and waits that have not heard the end of their job yet. */
const unfinished = (run: Run): string[] => [
  ...run.waits.filter((w) => !w.settled).map((w) => `wait for ${w.job} never settled`),
  // A listener of the missing job hears JobNotFoundError, which removes it.
  ...run.watchers
    .filter((w) => !w.gone && RANK[w.statuses.at(-1) ?? 'pending'] < 2)
    .map((w) => `listener of ${w.job} never heard the end (${w.statuses.join(' → ')})`),
];

/** Unhandled rejections seen during the run. */
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => void unhandled.push(reason);

/** What the instance still holds: timers, streams and requests, and whether it says so. */
const leftovers = (run: Run, serverTimers: number) => ({
  timers: libraryTimers(serverTimers),
  streams: run.server.openStreams(),
  requests: openRequests(run),
  idle: ['idle', 'closed'].includes(run.sut.state.state),
});
const NOTHING_LEFT = { timers: 0, streams: 0, requests: 0, idle: true };

/**
 * One scenario: the script, then healing (the server finishes every job and stops failing) until
 * everything watched has heard the end, then dispose(). Checks the rules as it goes.
 */
const play = async (s: Scenario): Promise<void> => {
  using clock = fakeClock();
  const random = vi.spyOn(Math, 'random').mockImplementation(seededRandom(s.jitter));
  const run = newRun(s);
  const { sut, server, broken } = run;
  const serverTimers = vi.getTimerCount(); // the heartbeat
  try {
    for (const a of s.actions) {
      // Calls run back to back, as in one turn of an app; only `tick` and `yield` wait.
      const waiting = perform(run, a, clock);
      if (waiting) await waiting;
      expect(broken).toEqual([]);
    }

    // Healing: every job ends, the network works; everything watched must hear the end, and an
    // instance with nothing unfinished to watch holds no timer and no connection.
    server.heal();
    JOBS.forEach((id, i) => server.advance(id, s.finals[i]!));
    await clock.advance(0);
    for (let step = 0; step < HEAL_STEPS && unfinished(run).length; step++) {
      server.acceptStreams();
      await clock.advance(HEARTBEAT_MS);
    }
    expect(broken).toEqual([]);
    expect(unfinished(run)).toEqual([]);
    // Every throw of a callback went to onError, once.
    expect(run.callbacks.reported).toBe(run.callbacks.threw);
    expect(leftovers(run, serverTimers)).toEqual(NOTHING_LEFT);

    // A wait and a listener more, then dispose(): everything ends, nothing is left.
    waitFor(run, JOBS[0], undefined);
    listen(run, MISSING);
    dispose(run);
    server.stopHeartbeat();
    await clock.advance(60_000);
    expect(run.waits.filter((w) => !w.settled)).toEqual([]);
    expect(leftovers(run, 0)).toEqual(NOTHING_LEFT);
    // Node reports an unhandled rejection after the microtasks: let a real macrotask pass.
    await new Promise((resolve) => setImmediateForReal(resolve));
    expect(unhandled.splice(0)).toEqual([]);
    expect(broken).toEqual([]);
  } finally {
    server.stopHeartbeat();
    sut.dispose();
    random.mockRestore();
  }
};

/**
 * A scenario for a script that pins a bug these properties found: `script(job, final)` about one job, in any
 * setting (client options, server start), with some settings fixed by `only`.
 */
const pinned = (
  script: (job: number, final: JobStatus) => Action[],
  only: { mode?: HeyGenStatusListenerMode[]; eventSource?: boolean } = {},
): fc.Arbitrary<Scenario> =>
  fc
    .record({
      jitter: fc.integer(),
      mode: fc.constantFrom(...(only.mode ?? MODES)),
      eventSource: only.eventSource === undefined ? fc.boolean() : fc.constant(only.eventSource),
      fallback: fc.boolean(),
      wait: fc.boolean(),
      holds: fc.boolean(),
      maxRetries: fc.integer({ min: 0, max: 3 }),
      initial: fc.tuple(...JOBS.map(() => fc.constantFrom<JobStatus>('pending', 'running'))),
      finals: fc.tuple(...JOBS.map(() => fc.constantFrom(...FINAL))),
      job: jobId,
    })
    .map(({ job, ...setting }) => ({
      ...setting,
      actions: script(job, setting.finals[job - 1]!),
    }));

const STREAMING: HeyGenStatusListenerMode[] = ['sse', 'auto'];

/** Bug B: a job ends, a wait for it settles, then a listen() on it. */
const listenAfterTheEnd = pinned(
  (job, final) => [
    { do: 'wait', job, timeout: undefined, abortable: false },
    { do: 'advanceJob', job, to: final },
    { do: 'acceptStreams' },
    { do: 'tick', ms: 0 },
    { do: 'listen', job, throws: false },
  ],
  { mode: STREAMING },
);

/** Bug C: over fetch, the burst of events a stream opens with ends the last watched job. */
const burstEndsTheLastJob = pinned(
  (job, final) => [
    { do: 'listen', job, throws: false },
    { do: 'tick', ms: 0 },
    { do: 'advanceJob', job, to: final },
    { do: 'acceptStreams' },
    { do: 'tick', ms: 0 },
  ],
  { mode: STREAMING, eventSource: false },
);

/** Bug D: a job the instance knows, then listen() and dispose() in the same turn. */
const listenThenDispose = pinned((job) => [
  { do: 'wait', job, timeout: undefined, abortable: false },
  { do: 'acceptStreams' },
  { do: 'tick', ms: 1200 },
  { do: 'acceptStreams' },
  { do: 'tick', ms: 0 },
  { do: 'listen', job, throws: false },
  { do: 'dispose' },
]);

/**
 * Bug E: polling with held waits, a job is listened to, dropped while its held poll is replaced
 * by a look at another job, then listened to again.
 */
const listenAgainAfterAReplacedPoll = pinned(
  (job) => {
    const other = (job % JOBS.length) + 1;
    return [
      { do: 'listen', job, throws: false },
      { do: 'tick', ms: 50 },
      { do: 'listen', job: other, throws: false },
      { do: 'stop', job },
      { do: 'tick', ms: 6000 },
      { do: 'listen', job, throws: false },
    ];
  },
  { mode: ['poll'] },
).map((s) => ({ ...s, wait: true, holds: true }));

describe(`${HeyGenAPI.name} (model-based)`, () => {
  beforeAll(() => void process.on('unhandledRejection', onUnhandled));
  afterAll(() => void process.off('unhandledRejection', onUnhandled));

  it('should keep every rule under any interleaving of calls, server events and faults', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, (s) => play(s)),
      propertyParameters(),
    );
  });

  // The bugs these properties found (issue 13), each now fixed: one focused property each, so
  // that the rare interleaving that showed it is tried on every run.
  describe('regressions', () => {
    it('B: should hold no timer and no stream after a listen() on a job that ended', async () => {
      await fc.assert(
        fc.asyncProperty(listenAfterTheEnd, (s) => play(s)),
        propertyParameters(),
      );
    });

    it('C: should hold no timer once a burst of events ends the last job', async () => {
      await fc.assert(
        fc.asyncProperty(burstEndsTheLastJob, (s) => play(s)),
        propertyParameters(),
      );
    });

    it('D: should call no listener that dispose() removed', async () => {
      await fc.assert(
        fc.asyncProperty(listenThenDispose, (s) => play(s)),
        propertyParameters(),
      );
    });

    it('E: should poll again for a job listened to again after its poll was replaced', async () => {
      await fc.assert(
        fc.asyncProperty(listenAgainAfterAReplacedPoll, (s) => play(s)),
        propertyParameters(),
      );
    });
  });
});
