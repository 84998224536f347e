// The fault matrix in one place: the calls, the faults, the timings every bound is derived from,
// and the documented outcome of each (call × fault). fault-matrix.test.ts runs it, and
// docs/reliability.md shows it (rendered by `renderTable`, checked by the test).

/** The calls of the matrix; `dispose` means "dispose() while calls are pending". */
export const CALLS = [
  'createJob',
  'waitForJob',
  'listen',
  'changeBackend',
  'cancelJob',
  'dispose',
] as const;
export type Call = (typeof CALLS)[number];

/** The faults, with the words the doc uses for them. */
export const FAULTS = {
  down: 'server down from the start',
  killed: 'server killed mid-call',
  restarted: 'server restarted without its jobs',
  'error-500': '500 answers',
  garbage: 'garbage bodies',
  stall: 'a stream that stalls',
  'cut-every': 'a stream cut every second',
  refuse: 'a proxy that refuses new connections',
  slow: 'slow answers (5 s)',
} as const;
export type Fault = keyof typeof FAULTS;
export const FAULT_IDS = Object.keys(FAULTS) as Fault[];

/** Everything a bound depends on: the library's options, the server's, and the scenario's. */
export interface Timings {
  /** `retryDelay` (r). */
  retryDelay: number;
  /** `maxRetries` (n). */
  maxRetries: number;
  /** `pollInterval` (P). */
  pollInterval: number;
  /** `timeout` of createJob and cancelJob (T); the library's default is 10 s. */
  callTimeout: number;
  /** `timeout` of waitForJob (W); none by default. */
  waitTimeout: number | undefined;
  /** The server's HEARTBEAT_MS (H): a stream is given up after 2.5 H without a byte. */
  heartbeatMs: number;
  /** How long the waited-for job runs (D), from its creation just before the call. */
  jobMs: number;
  /** How late `slow` answers (L). */
  slowMs: number;
  /** How long a stream lives under `cut-every`. */
  cutEveryMs: number;
  /** When a mid-call fault (kill, restart, stall) hits a wait, after the call started (K). */
  faultAtMs: number;
  /** When the changeBackend row switches from SSE to POLL, after its wait started (C). */
  changeAfterMs: number;
}

/** The library's defaults (and the server's HEARTBEAT_MS default), with the test's scenario. */
export const DEFAULT_TIMINGS: Timings = {
  retryDelay: 500,
  maxRetries: 5,
  pollInterval: 1000,
  callTimeout: 10_000,
  waitTimeout: undefined,
  heartbeatMs: 15_000,
  jobMs: 2000,
  slowMs: 5000,
  cutEveryMs: 1000,
  faultAtMs: 300,
  changeAfterMs: 100,
};

/** Short options, so that the 54 rows run in well under a minute. */
export const TEST_TIMINGS: Timings = {
  ...DEFAULT_TIMINGS,
  retryDelay: 50,
  maxRetries: 3,
  pollInterval: 200,
  callTimeout: 3000,
  waitTimeout: 3000,
  heartbeatMs: 100,
};

/**
 * What the test allows on top of each bound: process start-up is not in it (the clock starts at
 * the call), but connection set-up, timers firing late and several processes sharing 2 cores are.
 */
export const SLACK_MS = 1000;
/** A TimeoutError may come this much before its `timeout` (timers are not exact). */
export const EARLY_MS = 20;
/** dispose(): pending calls reject "at once", i.e. within this many ms of dispose(). */
export const DISPOSE_SETTLE_MS = 50;
/** The guarantee: a process with nothing else to do exits within this long after dispose(). */
export const EXIT_MS = 100;
/**
 * Node's teardown after the child's `exit` event, and the parent noticing: measured 4–24 ms for a
 * child with nothing pending (the baseline rows, on every run), a median of 7–15 ms over the
 * matrix (4 children at once on 2 cores), outliers of a few hundred ms when other work loads the
 * cores; allowed on top of EXIT_MS. That part is the machine's, not the library's (whose part,
 * EXIT_MS, the child measures itself), so the allowance is wide enough for a loaded CI machine.
 * Children run with `--liftoff-only` (see CHILD_NODE_FLAGS in run-row.ts and
 * docs/reliability.md, "dispose()").
 */
export const TEARDOWN_MS = 1000;

/** A dispose row disposes this long after its calls started; its mid-call faults hit before. */
export const DISPOSE_AFTER_MS = 400;
export const DISPOSE_FAULT_AT_MS = 100;
/**
 * In a dispose row, the restarted server takes over this long after the old one died, so that
 * dispose() comes during the restart (with no gap, the wait would end at once, JobNotFoundError).
 */
export const DISPOSE_RESTART_GAP_MS = 1000;
/** Retries of a dispose row, so that its calls are still retrying when dispose() comes. */
export const DISPOSE_MAX_RETRIES = 8;
/**
 * The job of a cancelJob or a dispose row runs this long, so that it is surely still running when
 * it is cancelled or when dispose() comes. Its time starts when the harness creates it, once the
 * row's child is ready (ScenarioSpec.awaitJob); before that was so, a dispose row's job of `jobMs`
 * (2000 ms) once completed first, with the test files on two workers.
 */
export const RUNNING_JOB_MS = 10_000;

/** The server's environment for the matrix: heartbeats at H. */
export const serverEnv = (t: Timings): Record<string, string> => ({
  JOB_TIME: '800',
  HEARTBEAT_MS: String(t.heartbeatMs),
  STREAM_RETRY_MS: '100',
});

/** How each call tracks status: waits over SSE without fallback, listen with it. */
export const TRANSPORT: Record<Call, { mode: 'sse' | 'poll'; fallback: boolean }> = {
  createJob: { mode: 'sse', fallback: false },
  waitForJob: { mode: 'sse', fallback: false },
  listen: { mode: 'sse', fallback: true },
  changeBackend: { mode: 'sse', fallback: false }, // then changeBackend(POLL) after C
  cancelJob: { mode: 'sse', fallback: false },
  dispose: { mode: 'sse', fallback: false },
};

/** What scenario.mjs is told (as JSON in HEYGEN_SCENARIO). */
export interface ScenarioSpec {
  url: string;
  clientId: string;
  call: Call | 'none';
  jobId?: number;
  /**
   * The call's job is created by the parent once the child is ready (its `ready` line), and its id
   * written on the child's stdin: created before the child started, the job ran during Node's
   * start-up, up to seconds on a loaded machine, and could end before its call began.
   */
  awaitJob?: boolean;
  /** createJob's `duration`. */
  duration?: number;
  /** The `timeout` of createJob and cancelJob (T). */
  timeout?: number;
  /** The `timeout` of waitForJob (W). */
  waitTimeout?: number;
  /** HeyGenAPI options, but `url`, `clientId`, `EventSource` and `onError`. */
  options: Record<string, unknown>;
  changeTo?: 'poll';
  changeAfterMs?: number;
  disposeAfterMs?: number;
  /** When a call still pending is reported `pending` and disposed of. */
  deadlineMs?: number;
}

// ---- Bounds: terms with a name (for the doc) and a value (for the test) ----

interface Term {
  text: string;
  ms: (t: Timings) => number;
}
const term = (text: string, ms: (t: Timings) => number): Term => ({ text, ms });
const sum = (...terms: Term[]): Term =>
  term(terms.map((x) => x.text).join(' + '), (t) => terms.reduce((all, x) => all + x.ms(t), 0));
const min = (a: Term, b: Term): Term =>
  term(`min(${a.text}, ${b.text})`, (t) => Math.min(a.ms(t), b.ms(t)));
const max = (a: Term, b: Term): Term =>
  term(`max(${a.text}, ${b.text})`, (t) => Math.max(a.ms(t), b.ms(t)));

/** The longest backoff a call or a transport sleeps through before it gives up (no jitter). */
export const retryBudget = (t: Timings): number => {
  let total = 0;
  for (let n = 1; n <= t.maxRetries; n++) total += Math.min(30_000, t.retryDelay * 2 ** (n - 1));
  return total;
};

const ZERO = term('0', () => 0);
const R = term('R', retryBudget);
const r = term('r', (t) => t.retryDelay);
const T = term('T', (t) => t.callTimeout);
const P = term('P', (t) => t.pollInterval);
const D = term('D', (t) => t.jobMs);
const L = term('L', (t) => t.slowMs);
const K = term('K', (t) => t.faultAtMs);
const C = term('C', (t) => t.changeAfterMs);
const WATCHDOG = term('2.5H', (t) => 2.5 * t.heartbeatMs);
/**
 * Every attempt of a stalled stream waits out the watchdog: 2.5H for the stream that was connected,
 * then n streams stalled from their first byte, each given up with no `connected` after
 * min(10 s, 2.5H) (CONNECTED_WITHIN_MS in sse-transport.ts).
 */
const STALLED = term(
  '2.5H + n·min(10 s, 2.5H)',
  (t) => 2.5 * t.heartbeatMs + t.maxRetries * Math.min(10_000, 2.5 * t.heartbeatMs),
);

export type ErrorName =
  | 'HttpError'
  | 'SSEError'
  | 'JobNotFoundError'
  | 'MessageParseError'
  | 'TimeoutError'
  | 'AbortError';

interface Natural {
  outcome: 'resolved' | 'rejected';
  error?: ErrorName;
  code?: string;
  within: Term;
  /** The answer cannot come sooner: a timeout shorter than this wins. */
  notBefore?: Term;
}
const resolves = (within: Term, notBefore?: Term): Natural => ({
  outcome: 'resolved',
  within,
  ...(notBefore && { notBefore }),
});
const rejects = (error: ErrorName, code: string, within: Term): Natural => ({
  outcome: 'rejected',
  error,
  code,
  within,
});
const network = (within: Term): Natural => rejects('HttpError', 'NETWORK_ERROR', within);
const http500 = (within: Term): Natural => rejects('HttpError', 'HTTP_ERROR', within);
const sseError = (within: Term): Natural => rejects('SSEError', 'SSE_ERROR', within);
const notFound = (within: Term): Natural => rejects('JobNotFoundError', 'JOB_NOT_FOUND', within);
const parseError = (within: Term): Natural => rejects('MessageParseError', 'MESSAGE_PARSE', within);

/**
 * The documented outcome of every row but dispose, with no timeout in the way. Waits run over SSE
 * without fallback (SSEError once the stream gave up), listen with `fallback: true` (it polls
 * while polling works), changeBackend switches the wait from SSE to POLL after C. Polling asks
 * again after max(P, the server's hint), and the server hints at the job's end: a fault that
 * comes between two polls is seen at the next one, up to max(P, D) later.
 */
const NATURAL: Record<Fault, Record<Exclude<Call, 'dispose'>, Natural>> = {
  down: {
    createJob: network(min(R, T)),
    waitForJob: sseError(R),
    listen: network(R),
    changeBackend: network(sum(C, R)),
    cancelJob: network(min(R, T)),
  },
  killed: {
    createJob: network(min(R, T)),
    waitForJob: sseError(sum(K, R)),
    listen: network(sum(K, R)),
    changeBackend: network(sum(C, max(P, D), R)),
    cancelJob: network(min(R, T)),
  },
  restarted: {
    createJob: resolves(r),
    waitForJob: notFound(sum(K, r)),
    listen: notFound(sum(K, r)),
    changeBackend: notFound(sum(C, max(P, D), r)),
    cancelJob: notFound(r),
  },
  'error-500': {
    createJob: http500(ZERO),
    waitForJob: sseError(R),
    listen: http500(R),
    changeBackend: http500(sum(C, R)),
    cancelJob: http500(ZERO),
  },
  garbage: {
    createJob: parseError(ZERO),
    waitForJob: resolves(D),
    listen: resolves(D),
    changeBackend: parseError(C),
    cancelJob: parseError(ZERO),
  },
  stall: {
    createJob: resolves(ZERO),
    waitForJob: sseError(sum(K, STALLED, R)),
    listen: resolves(max(D, sum(K, WATCHDOG, P))),
    changeBackend: resolves(sum(D, P)),
    cancelJob: resolves(ZERO),
  },
  'cut-every': {
    createJob: resolves(ZERO),
    waitForJob: resolves(sum(D, r)),
    listen: resolves(sum(D, P)),
    changeBackend: resolves(sum(D, P)),
    cancelJob: resolves(ZERO),
  },
  refuse: {
    createJob: network(min(R, T)),
    waitForJob: sseError(R),
    listen: network(R),
    changeBackend: network(sum(C, R)),
    cancelJob: network(min(R, T)),
  },
  slow: {
    createJob: resolves(L, L),
    waitForJob: resolves(sum(L, D), L),
    listen: resolves(sum(L, D), L),
    changeBackend: resolves(sum(L, D, P), L),
    cancelJob: resolves(L, L),
  },
};

/** A row's documented outcome under some timings. */
export interface Expectation {
  outcome: 'resolved' | 'rejected';
  error?: ErrorName;
  code?: string;
  /** Settles at most this long after the call (after dispose() for a dispose row). */
  withinMs: number;
  /** And not sooner than this (a timeout). */
  notBeforeMs?: number;
  /** The bound as a formula. */
  bound: string;
  /** The bound counts from dispose(), not from the call. */
  fromDispose?: boolean;
}

/** Which `timeout` bounds a call: T for createJob and cancelJob, W for a wait, none for listen. */
const limitOf = (call: Call, t: Timings): Term | undefined => {
  if (call === 'createJob' || call === 'cancelJob') return T;
  if ((call === 'waitForJob' || call === 'changeBackend') && t.waitTimeout !== undefined) {
    const W = t.waitTimeout;
    return term('W', () => W);
  }
  return undefined;
};

export const expectation = (call: Call, fault: Fault, t: Timings): Expectation => {
  if (call === 'dispose') {
    return {
      outcome: 'rejected',
      error: 'AbortError',
      code: 'ABORTED',
      withinMs: 0,
      bound: '0 after dispose()',
      fromDispose: true,
    };
  }
  const natural = NATURAL[fault][call];
  const limit = limitOf(call, t);
  if (limit && natural.notBefore && natural.notBefore.ms(t) >= limit.ms(t)) {
    return {
      outcome: 'rejected',
      error: 'TimeoutError',
      code: 'TIMEOUT',
      withinMs: limit.ms(t),
      notBeforeMs: limit.ms(t),
      bound: `${limit.text}, as ${limit.text} < ${natural.notBefore.text}`,
    };
  }
  const { outcome, error, code, within } = natural;
  return {
    outcome,
    ...(error && { error }),
    ...(code && { code }),
    withinMs: within.ms(t),
    bound: within.text,
  };
};

// ---- The doc's table ----

export const describeOutcome = (e: Pick<Expectation, 'outcome' | 'error' | 'code'>): string =>
  e.outcome === 'resolved' ? 'resolves' : `\`${e.error}\` (\`${e.code}\`)`;

const duration = (ms: number): string =>
  ms < 1000 ? `${Math.round(ms)} ms` : `${Number((ms / 1000).toFixed(2))} s`;

/** The cells of one row of docs/reliability.md's table. */
export const docRow = (call: Call, fault: Fault): string[] => {
  const byDefault = expectation(call, fault, DEFAULT_TIMINGS);
  const inTest = expectation(call, fault, TEST_TIMINGS);
  const same = describeOutcome(byDefault) === describeOutcome(inTest);
  const outcome = same
    ? describeOutcome(inTest)
    : `${describeOutcome(byDefault)} by default; ${describeOutcome(inTest)} in the test`;
  const bound =
    byDefault.bound === inTest.bound
      ? inTest.bound
      : `${byDefault.bound} by default; ${inTest.bound} in the test`;
  const at = (e: Expectation): string =>
    e.fromDispose ? '0 ms' : duration(e.withinMs) + (e.notBeforeMs ? ' (timeout)' : '');
  return [`\`${call}\``, FAULTS[fault], outcome, bound, at(byDefault), at(inTest)];
};

export const DOC_HEADER = ['call', 'fault', 'outcome', 'bound', 'defaults', 'test options'];

/** The whole table, in the order of CALLS then FAULTS. */
export const docRows = (): string[][] =>
  CALLS.flatMap((call) => FAULT_IDS.map((fault) => docRow(call, fault)));

export const renderTable = (): string =>
  [DOC_HEADER, DOC_HEADER.map(() => '---'), ...docRows()]
    .map((cells) => `| ${cells.join(' | ')} |`)
    .join('\n');
