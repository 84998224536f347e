// One row of the fault matrix, in a Node process of its own (fault-matrix.test.ts starts it).
//
// It imports the BUILT library (what users get) and the `eventsource` package, performs one call
// against the URL it is given, and prints JSON lines on stdout, one per event:
//   {type:'started', at}                  the call was made (wall clock, ms)
//   {type:'settled', op, outcome, ...}    an operation settled: 'resolved' | 'rejected', or
//                                         'pending' when the row's deadline passed first
//   {type:'changed', ms, threw}           changeBackend() returned (how long it took)
//   {type:'unhandled', kind, error}       an unhandledRejection or uncaughtException
//   {type:'disposed', at, disposeMs, pending}  dispose() returned (wall clock), what was pending
//   {type:'alive', afterMs, resources}    still running 100 ms after dispose(), and why
//   {type:'exit', at}                     the event loop emptied (wall clock, ms)
// Then it lets the process end on its own: it never calls process.exit(). The parent measures
// when it exits.
import { EventSource } from 'eventsource';
import { HeyGenAPI } from '../../dist/index.js';

/** @type {import('./matrix.js').ScenarioSpec} */
const spec = JSON.parse(process.env.HEYGEN_SCENARIO ?? '{}');
const print = (line) => process.stdout.write(`${JSON.stringify(line)}\n`);
const describe = (error) =>
  error instanceof Error
    ? {
        errorName: error.name,
        errorCode: error.code,
        status: error.status,
        message: error.message,
      }
    : { errorName: typeof error, message: String(error) };

process.on('unhandledRejection', (reason) =>
  print({ type: 'unhandled', kind: 'unhandledRejection', error: describe(reason) }),
);
process.on('uncaughtException', (error) =>
  print({ type: 'unhandled', kind: 'uncaughtException', error: describe(error) }),
);
// The event loop is empty (nothing holds the process any more): what remains is Node's teardown.
process.on('exit', () => print({ type: 'exit', at: Date.now() }));

const api = new HeyGenAPI({
  url: spec.url,
  clientId: spec.clientId,
  EventSource,
  ...spec.options,
  // The library reports handled errors here; they are not failures of the row.
  onError: () => {},
});

const started = performance.now();
let disposedAt;
/** Operations not settled yet. */
const pending = new Set();

/** Watches one operation's promise and prints how it settled, once. */
const track = (op, promise) => {
  pending.add(op);
  const settle = (outcome, extra) => {
    if (!pending.delete(op)) return;
    const now = performance.now();
    print({
      type: 'settled',
      op,
      outcome,
      settledAfterMs: Math.round(now - started),
      ...(disposedAt !== undefined && { sinceDisposeMs: Math.round(now - disposedAt) }),
      ...extra,
    });
  };
  promise.then(
    (value) =>
      settle('resolved', {
        status: typeof value === 'object' && value ? value.status : undefined,
      }),
    (error) => settle('rejected', describe(error)),
  );
  return { settle, promise };
};

/** A listen() seen as an operation: the first terminal status, or the first onError. */
const listenOp = () =>
  new Promise((resolve, reject) => {
    try {
      api.listen(
        spec.jobId,
        (_id, status, job) => {
          if (status === 'completed' || status === 'failed' || status === 'cancelled') {
            resolve(job);
          }
        },
        // A message that did not parse is told, and the listener stays: only a fatal error (the
        // listener is removed) ends it.
        (error) => {
          if (error.code !== 'MESSAGE_PARSE') reject(error);
        },
      );
    } catch (error) {
      // listen() must never throw: report it as such.
      reject(Object.assign(new Error(`listen() threw: ${describe(error).message}`), { error }));
    }
  });

const timeout = spec.timeout;
const waitTimeout = spec.waitTimeout;
const calls = {
  createJob: () => ({ createJob: api.createJob({ duration: spec.duration, timeout }) }),
  cancelJob: () => ({ cancelJob: api.cancelJob(spec.jobId, { timeout }) }),
  waitForJob: () => ({ waitForJob: api.waitForJob(spec.jobId, { timeout: waitTimeout }) }),
  listen: () => ({ listen: listenOp() }),
  changeBackend: () => {
    const wait = api.waitForJob(spec.jobId, { timeout: waitTimeout });
    const timer = setTimeout(() => {
      const before = performance.now();
      let threw;
      try {
        api.changeBackend(spec.changeTo);
      } catch (error) {
        threw = describe(error);
      }
      print({ type: 'changed', ms: performance.now() - before, threw });
    }, spec.changeAfterMs);
    void wait.finally(() => clearTimeout(timer)).catch(() => {});
    return { changeBackend: wait };
  },
  dispose: () => {
    // A listener too, so that dispose() has a stream or a poll to release; listen() is not a
    // call that settles, so it is not tracked.
    api.listen(spec.jobId, () => {});
    return {
      createJob: api.createJob({ duration: spec.duration, timeout }),
      waitForJob: api.waitForJob(spec.jobId, { timeout: waitTimeout }),
    };
  },
  // No call, one plain fetch (as every call makes): how long Node takes to exit after dispose().
  none: () => ({ none: fetch(`${spec.url}/health`).then((res) => res.text()) }),
};

const ops = Object.entries(calls[spec.call]()).map(([op, promise]) => track(op, promise));
print({ type: 'started', at: Date.now() });

const dispose = () => {
  const before = performance.now();
  disposedAt = before;
  const wasPending = [...pending];
  api.dispose();
  print({
    type: 'disposed',
    at: Date.now() - (performance.now() - before),
    disposeMs: performance.now() - before,
    pending: wasPending,
  });
  // Unref'd: it never keeps the process alive, it only tells what did, if anything.
  setTimeout(
    () => print({ type: 'alive', afterMs: 100, resources: process.getActiveResourcesInfo() }),
    100,
  ).unref();
};

if (spec.call === 'dispose') {
  setTimeout(dispose, spec.disposeAfterMs);
} else {
  // The call settles, or the row's deadline passes (then it is reported pending); dispose after.
  const deadline = setTimeout(() => {
    for (const op of ops) op.settle('pending', {});
    dispose();
  }, spec.deadlineMs);
  void Promise.allSettled(ops.map((op) => op.promise)).then(() => {
    if (disposedAt !== undefined) return;
    clearTimeout(deadline);
    // After the settled lines, in the next turn: what dispose() does is not part of the call.
    setImmediate(dispose);
  });
}
