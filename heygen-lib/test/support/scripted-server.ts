import {
  type FetchLike,
  type Job,
  type JobStatus,
  type ReaderLike,
  type ResponseLike,
} from '../../src/index.js';
import { askedWait, FakeEventSource, fakeFetch, jobStub, type Call, type Reply } from './fakes.js';

/**
 * The scripted heygen-api of the model-based test (src/heygen-api.property.test.ts): the test's
 * actions drive it, and its history is what the listeners are checked against.
 */

/** Jobs the server has from the start. */
export const JOBS = [1, 2, 3] as const;
/** Forward only: `pending → running → completed | failed | cancelled`. */
export const RANK: Record<JobStatus, number> = {
  pending: 0,
  running: 1,
  completed: 2,
  failed: 2,
  cancelled: 2,
};
/** The heartbeat the fake server announces and keeps to. */
export const HEARTBEAT_MS = 1000;

/** One fetch the client made: open until answered, or until the client aborts it. */
interface Request {
  signal: AbortSignal | undefined;
  answered: boolean;
}

/** One event stream the client opened, as the server holds it. */
interface ServerStream {
  /** Closed by the client: its EventSource closed, or its fetch aborted. */
  readonly closed: boolean;
  /** Answers the open: `connected`. */
  accept(): void;
  send(type: string, data: unknown, id?: string): void;
  /** A network error; before it was accepted, a refusal when `refused`. */
  cut(refused: boolean): void;
}

const eventSourceStream = (es: FakeEventSource): ServerStream => ({
  get closed() {
    return es.closed;
  },
  accept: () => es.connect(HEARTBEAT_MS),
  send: (type, data, id) => es.emit(type, data, id),
  cut: (refused) => es.fail(refused),
});

const encoder = new TextEncoder();

/**
 * A stream over fetch: the response comes once accepted, then its body yields each event as a
 * `text/event-stream` frame cut in two chunks. An abort fails a pending read, as fetch does.
 */
const fetchStream = (signal: AbortSignal | undefined) => {
  type Read = { done: boolean; value?: Uint8Array };
  type Settle<T> = { resolve: (value: T) => void; reject: (error: Error) => void };
  const queue: Uint8Array[] = [];
  /** The read waiting for the next chunk. */
  let waiting: Settle<Read> | undefined;
  let broken: Error | undefined;
  let answer!: Settle<ResponseLike>;
  let answered = false;
  const response = new Promise<ResponseLike>((resolve, reject) => (answer = { resolve, reject }));
  const fail = (error: Error): void => {
    broken ??= error;
    if (!answered) answer.reject(error);
    waiting?.reject(error);
    waiting = undefined;
  };
  signal?.addEventListener('abort', () => fail(new DOMException('aborted', 'AbortError')));
  const reader: ReaderLike = {
    read: () =>
      broken
        ? Promise.reject(broken)
        : queue.length
          ? Promise.resolve({ done: false, value: queue.shift()! })
          : new Promise<Read>((resolve, reject) => (waiting = { resolve, reject })),
    cancel: () => Promise.resolve(),
  };
  const push = (bytes: Uint8Array): void => {
    if (!waiting) return void queue.push(bytes);
    const { resolve } = waiting;
    waiting = undefined;
    resolve({ done: false, value: bytes });
  };
  const stream: ServerStream = {
    get closed() {
      return !!signal?.aborted;
    },
    accept() {
      answered = true;
      answer.resolve({
        status: 200,
        headers: {
          get: (name) => (name.toLowerCase() === 'content-type' ? 'text/event-stream' : null),
        },
        body: { getReader: () => reader },
        text: () => Promise.resolve(''),
      });
      stream.send('connected', { clientId: 'x', heartbeatMs: HEARTBEAT_MS, resumed: false });
    },
    send(type, data, id) {
      if (!answered || broken) return;
      const text = typeof data === 'string' ? data : JSON.stringify(data);
      const frame = encoder.encode(`${id ? `id: ${id}\n` : ''}event: ${type}\ndata: ${text}\n\n`);
      const cut = Math.floor(frame.length / 2);
      push(frame.slice(0, cut));
      push(frame.slice(cut));
    },
    cut(refused) {
      if (answered || !refused) return fail(new TypeError('terminated'));
      answered = true;
      answer.resolve({
        status: 503,
        headers: { get: () => 'application/json' },
        text: () => Promise.resolve('{}'),
      });
    },
  };
  return { stream, response };
};

/**
 * The heygen-api server as the client sees it: `GET /status?ids=` (polls and lookups), held when
 * `holds` and asked to, failing the next `failures` times; and event streams, over
 * {@link FakeEventSource} or over fetch, that it accepts, feeds, cuts or lets stall when the
 * script says.
 */
export const scriptedServer = (initial: JobStatus[], holds: boolean) => {
  const history = new Map<number, Job[]>(JOBS.map((id, i) => [id, [jobStub(id, initial[i]!, 1)]]));
  const current = (id: number): Job | undefined => history.get(id)?.at(-1);
  const failures: ('503' | 'network')[] = [];
  const held: (() => void)[] = [];
  const requests: Request[] = [];
  const fetchStreams: ServerStream[] = [];
  const wrapped = new Map<FakeEventSource, ServerStream>();
  const accepted = new Set<ServerStream>();
  const stalled = new Set<ServerStream>();
  let eventId = 0;

  /** Every stream the client opened, oldest first. */
  const streams = (): ServerStream[] => {
    for (const es of FakeEventSource.instances) {
      if (!wrapped.has(es)) wrapped.set(es, eventSourceStream(es));
    }
    return [...wrapped.values(), ...fetchStreams];
  };

  const answer = (ids: number[], prefer: boolean): Reply => ({
    body: {
      jobs: ids.flatMap((id) => current(id) ?? []),
      missing: ids.filter((id) => !history.has(id)),
    },
    headers: prefer && holds ? { 'Preference-Applied': 'wait=25' } : {},
  });

  const handle = (call: Call): Reply | Error | Promise<Reply> => {
    if (call.url.pathname !== '/status' || !call.url.searchParams.has('ids')) {
      return { status: 404, body: { statusCode: 404, code: 'NOT_FOUND', message: 'no' } };
    }
    const failure = failures.shift();
    if (failure === 'network') return new TypeError('fetch failed');
    if (failure === '503') {
      return { status: 503, body: { statusCode: 503, code: 'UNAVAILABLE', message: 'busy' } };
    }
    const ids = call.url.searchParams.get('ids')!.split(',').map(Number);
    const prefer = askedWait(call) !== undefined;
    const news = ids.some((id) => !history.has(id) || current(id)!.finishedAt);
    if (!holds || !prefer || news) return answer(ids, prefer);
    return new Promise((resolve) => held.push(() => resolve(answer(ids, prefer))));
  };

  const fake = fakeFetch(handle);
  const fetch: FetchLike = (url, init) => {
    if (init.headers?.Accept === 'text/event-stream') {
      const { stream, response } = fetchStream(init.signal);
      fetchStreams.push(stream);
      return response;
    }
    const request: Request = { signal: init.signal, answered: false };
    requests.push(request);
    const response = fake.fetch(url, init);
    const done = (): void => void (request.answered = true);
    response.then(done, done);
    return response;
  };

  /** Streams that hear the server: accepted, not stalled, not closed by the client. */
  const live = (): ServerStream[] =>
    streams().filter((s) => accepted.has(s) && !s.closed && !stalled.has(s));

  const emit = (type: string, data: unknown): void => {
    const id = String(++eventId);
    for (const s of live()) s.send(type, data, id);
  };

  /** A change of job `id`: streamed, and the answer to every held poll. */
  const change = (id: number, status: JobStatus): void => {
    const job = current(id)!;
    const next = jobStub(id, status, job.revision + 1, {
      progress: status === 'running' ? Math.min(99, job.progress + 10) : job.progress,
    });
    history.get(id)!.push(next);
    emit('job', next);
    held.splice(0).forEach((release) => release());
  };

  const heartbeat = setInterval(() => {
    for (const s of live()) s.send('heartbeat', { time: new Date().toISOString() });
  }, HEARTBEAT_MS);

  return {
    fetch,
    history,
    current,
    failures,
    requests,
    /** Streams the client has not closed. */
    openStreams: (): number => streams().filter((s) => !s.closed).length,
    /** Moves job `id` towards `to`: pending runs first, unless cancelled; finished stays. */
    advance(id: number, to: JobStatus): void {
      const { status } = current(id)!;
      if (RANK[status] === 2) return;
      if (status === 'pending' && to !== 'cancelled' && to !== 'pending') change(id, 'running');
      if (to !== 'pending') change(id, to);
    },
    /** Re-sends an older copy of a job, as a replay after a reconnect may. */
    replay(id: number): void {
      const old = history.get(id)!.at(-2);
      if (old) emit('job', old);
    },
    garble: (): void => emit('job', '{oops'),
    /**
     * Accepts every stream waiting for it: `connected`, a snapshot of every job, then a replay of
     * each job's last two changes, as a resume may bring (older than the snapshot: dropped).
     */
    acceptStreams(): void {
      for (const s of streams()) {
        if (s.closed || accepted.has(s)) continue;
        accepted.add(s);
        s.accept();
        s.send('snapshot', { jobs: JOBS.map((id) => current(id)) }, String(++eventId));
        for (const id of JOBS) {
          for (const job of history.get(id)!.slice(-2)) s.send('job', job, String(++eventId));
        }
      }
    },
    /** Cuts the newest stream: a network error, or a refusal when not yet accepted. */
    cutStream(refused: boolean): void {
      streams()
        .findLast((s) => !s.closed)
        ?.cut(refused);
    },
    /** The newest accepted stream goes silent: no heartbeat, no event. */
    stallStream(): void {
      const s = live().at(-1);
      if (s) stalled.add(s);
    },
    /** No more failing polls; a stalled stream stays dead (a half-open connection never wakes). */
    heal(): void {
      failures.length = 0;
    },
    stopHeartbeat: (): void => clearInterval(heartbeat),
  };
};

export type ScriptedServer = ReturnType<typeof scriptedServer>;
