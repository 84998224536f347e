// One row of the fault matrix, in a Node process of its own (fault-matrix.test.ts starts it).
//
// It imports the BUILT library (what users get) and the `eventsource` package, performs one call
// against the URL it is given, and prints JSON lines on stdout, one per event:
//   {type:'ready'}                        warm, waiting for its job's id on stdin (spec.awaitJob)
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
//
// Before its call, it makes one request of its own (warmUpFetch), so that the row measures the
// library and not a race of Node's fetch on the first connection of a process (see there).
import { createServer } from 'node:http';
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

/**
 * One request to a server of the child's own, answered and closed before the call starts.
 *
 * Node 20's and 22's fetch (undici 6) compiles its HTTP parser, a WebAssembly module, on the first
 * request of a process, and adds its listeners to a connected socket only once that is done. A
 * connection reset in between (the `refuse` fault resets every connection as soon as it is
 * accepted) goes unseen: that request is never written and never fails, and waits for its signal,
 * the call's whole `timeout`. Measured on 2 loaded cores: 1 in 30 to 90 runs of createJob or
 * cancelJob × refuse; against a server that resets 1 ms after accepting, a third to a half of the
 * children (first-connection.test.ts). Undici 7.12 (nodejs/undici#4337) compiles the parser
 * synchronously, which closes that window.
 */
const warmUpFetch = async () => {
  const server = createServer((_req, res) => res.end());
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const res = await fetch(`http://127.0.0.1:${server.address().port}/`, {
      headers: { Connection: 'close' },
    });
    await res.arrayBuffer();
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
};
// The baseline (`none`) measures Node's exit after a single fetch: it keeps its first fetch.
if (spec.call !== 'none') await warmUpFetch();

/**
 * The call's job, created by the parent now that this process is ready (spec.awaitJob): its id
 * comes on stdin, which the parent then ends, so that nothing of it holds the process after.
 */
const readJobId = async () => {
  print({ type: 'ready' });
  let text = '';
  for await (const chunk of process.stdin) text += chunk;
  const id = Number(text.trim());
  if (!(id > 0)) throw new Error(`no job id on stdin: ${JSON.stringify(text)}`);
  return id;
};
if (spec.awaitJob) spec.jobId = await readJobId();

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
