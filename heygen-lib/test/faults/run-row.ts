import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import {
  startProxy,
  startTestServer,
  type Proxy,
  type ProxyMode,
  type RunningServer,
} from 'heygen-test-support';
import {
  DISPOSE_AFTER_MS,
  DISPOSE_FAULT_AT_MS,
  DISPOSE_MAX_RETRIES,
  DISPOSE_RESTART_GAP_MS,
  RUNNING_JOB_MS,
  SLACK_MS,
  TRANSPORT,
  expectation,
  serverEnv,
  type Call,
  type Expectation,
  type Fault,
  type ScenarioSpec,
  type Timings,
} from './matrix.js';

const SCENARIO = fileURLToPath(new URL('./scenario.mjs', import.meta.url));

/**
 * Node flags of every scenario. `--liftoff-only`: V8 compiles undici's HTTP parser (WebAssembly,
 * loaded by the first fetch) in background threads, and Node waits for those before it exits:
 * 45–50 ms on an idle 2-core machine, 100–650 ms while the matrix runs, whatever the library does
 * (measured: the `fetchBaseline` below, and a bare `fetch` + exit). With baseline compilation only,
 * that wait is 0–1 ms, so what the exit bound measures is what the library holds.
 */
export const CHILD_NODE_FLAGS = ['--liftoff-only'];

/** Nothing listens on port 1 (tcpmux): connections are refused, as in issue 14's reproduction. */
export const DEAD_URL = 'http://127.0.0.1:1';

/** What scenario.mjs prints, one JSON object a line. */
export type ScenarioLine =
  | { type: 'ready' }
  | { type: 'started'; at: number }
  | {
      type: 'settled';
      op: string;
      outcome: 'resolved' | 'rejected' | 'pending';
      settledAfterMs: number;
      sinceDisposeMs?: number;
      errorName?: string;
      errorCode?: string;
      status?: number | string;
      message?: string;
    }
  | { type: 'changed'; ms: number; threw?: { errorName: string; message: string } }
  | { type: 'unhandled'; kind: string; error: { errorName: string; message: string } }
  | { type: 'disposed'; at: number; disposeMs: number; pending: string[] }
  | { type: 'alive'; afterMs: number; resources: string[] }
  | { type: 'exit'; at: number };

/** One child process, as its parent saw it. */
export interface ChildRun {
  lines: ScenarioLine[];
  /** Wall clock when the child exited. */
  exitAt: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  /** It did not exit on its own in time and was killed. */
  killed: boolean;
}

/**
 * Runs scenario.mjs with `spec` and resolves once the child has exited and its output is read.
 * `onLine` sees each line as it comes (to apply a fault when the call has started); `reply` writes
 * the child's stdin and ends it (a `spec.awaitJob` child waits for its job's id there).
 */
export const runScenario = (
  spec: ScenarioSpec,
  onLine: (line: ScenarioLine, reply: (text: string) => void) => void = () => {},
  nodeFlags: string[] = CHILD_NODE_FLAGS,
  hardLimitMs = 30_000,
): Promise<ChildRun> =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, [...nodeFlags, SCENARIO], {
      env: { ...process.env, HEYGEN_SCENARIO: JSON.stringify(spec) },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const reply = (text: string): void => {
      child.stdin.end(`${text}\n`);
    };
    // Only a child that waits for its job reads its stdin.
    if (!spec.awaitJob) child.stdin.end();
    const lines: ScenarioLine[] = [];
    let stderr = '';
    let exitAt = 0;
    let killed = false;
    const limit = setTimeout(() => {
      killed = true;
      child.kill('SIGKILL');
    }, hardLimitMs);
    createInterface({ input: child.stdout }).on('line', (text) => {
      let line: ScenarioLine;
      try {
        line = JSON.parse(text) as ScenarioLine;
      } catch {
        stderr += `(stdout) ${text}\n`;
        return;
      }
      lines.push(line);
      onLine(line, reply);
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // 'exit' is when the process ended; 'close' comes once its output is read.
    child.on('exit', () => (exitAt = Date.now()));
    child.on('close', (code, signal) => {
      clearTimeout(limit);
      resolve({ lines, exitAt, code, signal, stderr, killed });
    });
  });

/** A row's run: what was asked, what was expected, what happened. */
export interface RowRun {
  call: Call;
  fault: Fault;
  expected: Expectation;
  spec: ScenarioSpec;
  child: ChildRun;
  /** When the fault was applied, in ms after the child printed `started` (mid-call faults). */
  faultAfterStartMs?: number;
}

/** The proxy mode of each fault the proxy makes. */
const PROXY_MODE: Partial<Record<Fault, ProxyMode>> = {
  'error-500': 'error-500',
  garbage: 'garbage',
  stall: 'stall-streams',
  'cut-every': 'cut-every',
  refuse: 'refuse',
  slow: 'slow',
};

/** The request a quick call sends, so that a mid-call fault hits it in flight. */
const REQUEST: Partial<Record<Call, RegExp>> = {
  createJob: /^POST \/create\b/,
  cancelJob: /^POST \/cancel\//,
};

/**
 * When the fault is applied: before the child starts (`start`), when the call's request reaches
 * the proxy (`request`), or a while after the call started (`started`, after `delayMs`).
 */
const timingOf = (
  call: Call,
  fault: Fault,
  t: Timings,
): { when: 'start' | 'request' | 'started'; delayMs: number } => {
  const midCall = fault === 'killed' || fault === 'restarted' || fault === 'stall';
  if (!midCall) return { when: 'start', delayMs: 0 };
  if (REQUEST[call]) return { when: fault === 'stall' ? 'start' : 'request', delayMs: 0 };
  return { when: 'started', delayMs: call === 'dispose' ? DISPOSE_FAULT_AT_MS : t.faultAtMs };
};

const createServerJob = async (
  server: RunningServer,
  clientId: string,
  duration: number,
): Promise<number> => {
  const res = await fetch(`${server.url}/create?uuid=${clientId}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ duration }),
  });
  if (res.status !== 201) throw new Error(`could not create a job: ${res.status}`);
  return ((await res.json()) as { id: number }).id;
};

/**
 * Runs one row: sets the fault up (its own server when the fault breaks it, else `shared`, behind
 * a proxy of its own), starts the child, creates the job the call needs directly on the server
 * under the child's client id once the child is ready, applies the fault on time, and tears
 * everything down.
 */
export const runRow = async (
  call: Call,
  fault: Fault,
  shared: RunningServer,
  t: Timings,
): Promise<RowRun> => {
  const teardown: (() => unknown)[] = [];
  try {
    const clientId = randomUUID();
    const expected = expectation(call, fault, t);
    let url = DEAD_URL;
    let server: RunningServer | undefined;
    let proxy: Proxy | undefined;
    let apply = (): void => {};

    if (fault !== 'down') {
      const own = fault === 'killed' || fault === 'restarted';
      const [first, fresh] = await Promise.all([
        own ? startTestServer(serverEnv(t)) : shared,
        fault === 'restarted' ? startTestServer(serverEnv(t)) : undefined,
      ]);
      server = first;
      if (own) teardown.push(() => first.stop('SIGKILL'));
      if (fresh) teardown.push(() => fresh.stop('SIGKILL'));
      const row = await startProxy({
        target: { host: first.host, port: first.port },
        slowMs: t.slowMs,
        cutEveryMs: t.cutEveryMs,
      });
      proxy = row;
      teardown.push(() => row.close());
      url = row.url;
      const mode = PROXY_MODE[fault];
      let gap: NodeJS.Timeout | undefined;
      teardown.push(() => clearTimeout(gap));
      apply = () => {
        // SIGKILL at once (not through stop(), which looks for children first): a crash.
        if (own) process.kill(first.pid, 'SIGKILL');
        const takeOver = (): void => {
          if (fresh) row.setTarget({ host: fresh.host, port: fresh.port });
        };
        if (fresh && call === 'dispose') gap = setTimeout(takeOver, DISPOSE_RESTART_GAP_MS);
        else takeOver();
        if (mode) row.setMode(mode);
      };
    }

    const duration = call === 'cancelJob' || call === 'dispose' ? RUNNING_JOB_MS : t.jobMs;
    const needsJob = call !== 'createJob';
    // Down from the start: an id the server would have given, never asked for.
    const jobServer = needsJob ? server : undefined;
    let jobError: Error | undefined;

    const { when, delayMs } = timingOf(call, fault, t);
    let applied = false;
    let faultAfterStartMs: number | undefined;
    let startedAt = 0;
    const applyOnce = (): void => {
      if (applied) return;
      applied = true;
      if (startedAt) faultAfterStartMs = Date.now() - startedAt;
      apply();
    };
    if (when === 'start') applyOnce();
    const pattern = REQUEST[call];
    if (when === 'request' && proxy && pattern) {
      teardown.push(proxy.onRequest((line) => pattern.test(line) && applyOnce()));
    }

    const { mode, fallback } = TRANSPORT[call];
    const spec: ScenarioSpec = {
      url,
      clientId,
      call,
      ...(jobServer ? { awaitJob: true } : needsJob && { jobId: 1 }),
      duration: 500,
      timeout: t.callTimeout,
      ...(t.waitTimeout !== undefined && { waitTimeout: t.waitTimeout }),
      options: {
        mode,
        fallback,
        retryDelay: t.retryDelay,
        maxRetries: call === 'dispose' ? DISPOSE_MAX_RETRIES : t.maxRetries,
        pollInterval: t.pollInterval,
      },
      changeTo: 'poll',
      changeAfterMs: t.changeAfterMs,
      disposeAfterMs: DISPOSE_AFTER_MS,
      deadlineMs: expected.withinMs + SLACK_MS + 2000,
    };
    let timer: NodeJS.Timeout | undefined;
    teardown.push(() => clearTimeout(timer));
    const child = await runScenario(spec, (line, reply) => {
      if (line.type === 'ready' && jobServer) {
        createServerJob(jobServer, clientId, duration).then(
          (id) => reply(String(id)),
          (error: unknown) => {
            jobError = error instanceof Error ? error : new Error(String(error));
            reply('');
          },
        );
      }
      if (line.type !== 'started') return;
      startedAt = Date.now();
      if (when === 'started') timer = setTimeout(applyOnce, delayMs);
    });
    if (jobError !== undefined) throw jobError;
    return {
      call,
      fault,
      expected,
      spec,
      child,
      ...(faultAfterStartMs !== undefined && { faultAfterStartMs }),
    };
  } finally {
    for (const step of teardown.reverse()) await step();
  }
};
