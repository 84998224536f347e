import { createFrameParser } from 'heygen-test-support/sse-frames';
import { mkdirSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { dirname, resolve } from 'node:path';
import { agent, send, warmUp } from '../http.js';
import { openFds } from '../proc.js';
import { redisInfo, redisKeys } from '../redis-inline.js';
import { scrapeMetrics } from '../scrape-metrics.js';
import { startServer, type BenchServer } from '../server.js';
import { distribution, round, sleep, type Distribution } from '../stats.js';
import { lineChart } from '../svg-chart.js';

export interface SoakOptions {
  minutes: number;
  /** How often the server process is sampled, s. */
  sampleS: number;
  /** Jobs created per second over the ordinary clients, each of 1–3 s. */
  createsPerS: number;
  /** Jobs per second of the one busy client whose streams the slow readers open. */
  busyCreatesPerS: number;
  /** Ordinary streams kept open, each for 2–20 s, then closed and another opened. */
  streams: number;
  /** Streams of the busy client that stop reading once their head arrived. */
  slowReaders: number;
  /**
   * How long a slow reader stays stopped before it reads again to learn if it was dropped, s: at
   * the busy client's ~120 KiB/s, the kernel's ~4 MB fill in about 35 s.
   */
  slowReaderStallS: number;
  /** Writes the series as an SVG chart here (docs/soak.svg at full scale). */
  chartFile?: string;
}

export interface SoakSample {
  atS: number;
  rssMiB: number;
  fds: number;
  /** From the server's GET /metrics; null without it. */
  heapUsedMiB: number | null;
  /**
   * Event-loop delay p99 over the last interval (prom-client resets its histogram at each
   * scrape), without the monitor's own 10 ms sampling period, which its figures include: p99 − min.
   */
  loopP99Ms: number | null;
  /** The Redis's `used_memory` and key count (redis driver); null on the memory driver. */
  redisUsedMiB: number | null;
  redisKeys: number | null;
}

export interface SoakVerdict {
  reference: number;
  end: number;
  changePercent: number;
  /** Within 10 % of the reference (issue 13). */
  ok: boolean;
}

export interface SoakResult {
  driver: 'memory' | 'redis';
  minutes: number;
  sampleS: number;
  /** What the server was started with, on top of its defaults. */
  env: Record<string, string>;
  /** Where heap and event-loop delay came from; RSS and fds always come from /proc. */
  metrics: 'GET /metrics' | 'unavailable';
  samples: SoakSample[];
  load: {
    created: number;
    polls: number;
    batches: number;
    heldWaits: number;
    /** How long held waits were held, ms. */
    heldMs: Distribution;
    cancelled: number;
    /** Cancels of a job that had finished meanwhile (409 JOB_FINISHED, expected). */
    cancelTooLate: number;
    streamsOpened: number;
    streamEvents: number;
    /** Ordinary streams the server ended before the bench did; should be 0. */
    streamsCutByServer: number;
    /**
     * Slow readers checked (stalled `slowReaderStallS`, then read again), and those the server
     * had dropped meanwhile: their stream ended once the queued bytes were read.
     */
    slowReaders: { stallS: number; checked: number; dropped: number };
    /** Answers no client should get (5xx, 4xx other than the expected 409), by route and status. */
    unexpected: Record<string, number>;
    /** Requests that failed on the network or timed out. */
    failures: number;
  };
  verdicts: {
    /** The sample the end is compared with: 1 min, or halfway through a run of 2 min or less. */
    referenceAtS: number;
    rss: SoakVerdict;
    fds: SoakVerdict;
    /** Largest event-loop delay p99 of any sample, against 20 ms; null without /metrics. */
    loopP99: { maxMs: number | null; ok: boolean | null };
    /** The Redis's memory and keys, on the redis driver: what its TTLs and caps must bound. */
    redisMemory?: SoakVerdict;
    redisKeys?: SoakVerdict;
  };
}

interface Client {
  uuid: string;
  /** Latest jobs created, for polls, waits and cancels. */
  recent: number[];
  streams: number;
}

const MiB = 1024 * 1024;
const TICK_MS = 100;
const RECENT = 50;
/** Below MAX_STREAMS_PER_CLIENT (8): a stream refused with 429 would be the bench's fault. */
const STREAMS_PER_CLIENT = 6;
const LOOP_P99_BOUND_MS = 20;
const GROWTH_BOUND_PERCENT = 10;

const randomIn = (min: number, max: number): number => min + Math.random() * (max - min);
const pick = <T>(items: readonly T[]): T | undefined =>
  items[Math.floor(Math.random() * items.length)];

/**
 * Scenario 9 (issue 13): minutes of mixed load on one fresh server (creates, status polls and
 * batches, held waits, cancels, streams opening and closing, slow readers), its RSS, open fds,
 * heap and event-loop delay sampled all along. Whatever leaks shows as a slope. With `redisUrl`,
 * the server runs the redis driver on that (empty) Redis, whose memory and keys are sampled too.
 */
export async function runSoak(options: SoakOptions, redisUrl?: string): Promise<SoakResult> {
  const env = {
    ...(redisUrl !== undefined && {
      JOBS_DRIVER: 'redis',
      REDIS_URL: redisUrl,
      // A client that always has an unfinished job keeps its event stream, bounded by this count
      // alone: at ~25 events/s per ordinary client the default 10,000 would fill for 7 minutes
      // and read as growth; 1000 fill before the 1-minute reference.
      REPLAY_LOG_SIZE: '1000',
    }),
    JOB_TIME: '2000',
    // Progress every 100 ms (default 500): ~20 events per job, so the busy client's stream
    // outruns a paused reader's loopback socket buffers (~4 MB) within a minute, and the
    // per-stream cap is what drops it.
    PROGRESS_INTERVAL_MS: '100',
    // Small, so the cap acts as soon as the kernel's buffers are full.
    STREAM_BUFFER_BYTES: '16384',
    // Finished jobs kept 30 s (default 10 min, the whole run): the retained set is full before
    // the 1-minute reference, so what grows after it is a leak, not retention doing its job.
    RETENTION_MS: '30000',
  };
  const server = await startServer({ env });
  const load = new Load(server, options);
  try {
    await warmUp(server.url);
    const started = Date.now();
    const sampleAt = (atS: number): Promise<SoakSample> => sample(server, atS, redisUrl);
    const samples: SoakSample[] = [await sampleAt(0)];
    let metrics = samples[0]!.heapUsedMiB !== null;
    load.start();
    const end = started + options.minutes * 60_000;
    for (let next = started + options.sampleS * 1000; next <= end;) {
      await sleep(next - Date.now());
      const s = await sampleAt(Math.round((Date.now() - started) / 1000));
      metrics ||= s.heapUsedMiB !== null;
      samples.push(s);
      next += options.sampleS * 1000;
    }
    await load.stop();

    const result: SoakResult = {
      driver: redisUrl === undefined ? 'memory' : 'redis',
      minutes: options.minutes,
      sampleS: options.sampleS,
      env,
      metrics: metrics ? 'GET /metrics' : 'unavailable',
      samples,
      load: load.summary(),
      verdicts: verdicts(samples, options.minutes),
    };
    if (options.chartFile !== undefined) writeSoakChart(resolve(options.chartFile), result);
    return result;
  } finally {
    load.destroy();
    agent.destroy();
    await server.stop();
  }
}

/**
 * RSS and fds from /proc; heap and event-loop delay from GET /metrics when the server has it; the
 * Redis's memory and keys from the Redis itself.
 */
async function sample(server: BenchServer, atS: number, redisUrl?: string): Promise<SoakSample> {
  const rssMiB = round(server.rss() / MiB);
  const fds = openFds(server.pid);
  const metrics = await scrapeMetrics(server.url).catch(() => undefined);
  const heap = metrics?.get('nodejs_heap_size_used_bytes');
  const loop = metrics?.get('nodejs_eventloop_lag_p99_seconds');
  const loopMin = metrics?.get('nodejs_eventloop_lag_min_seconds') ?? 0;
  return {
    atS,
    rssMiB,
    fds,
    heapUsedMiB: heap === undefined ? null : round(heap / MiB),
    loopP99Ms: loop === undefined ? null : round(Math.max(0, loop - loopMin) * 1000),
    redisUsedMiB:
      redisUrl === undefined
        ? null
        : round((await redisInfo(redisUrl, 'memory', 'used_memory')) / MiB),
    redisKeys: redisUrl === undefined ? null : await redisKeys(redisUrl),
  };
}

function verdicts(samples: SoakSample[], minutes: number): SoakResult['verdicts'] {
  const last = samples.at(-1)!;
  const referenceAtS = minutes > 2 ? 60 : (minutes * 60) / 2;
  // The first sample at or after the reference time.
  const reference = samples.find((s) => s.atS >= referenceAtS) ?? last;
  const verdict = (from: number, to: number): SoakVerdict => {
    const changePercent = round((to / from - 1) * 100);
    return {
      reference: from,
      end: to,
      changePercent,
      ok: Math.abs(changePercent) <= GROWTH_BOUND_PERCENT,
    };
  };
  const loops = samples.map((s) => s.loopP99Ms).filter((v): v is number => v !== null);
  const maxMs = loops.length ? Math.max(...loops) : null;
  return {
    referenceAtS: reference.atS,
    rss: verdict(reference.rssMiB, last.rssMiB),
    fds: verdict(reference.fds, last.fds),
    loopP99: { maxMs, ok: maxMs === null ? null : maxMs <= LOOP_P99_BOUND_MS },
    ...(reference.redisUsedMiB !== null &&
      last.redisUsedMiB !== null && {
        redisMemory: verdict(reference.redisUsedMiB, last.redisUsedMiB),
      }),
    ...(reference.redisKeys !== null &&
      last.redisKeys !== null && { redisKeys: verdict(reference.redisKeys, last.redisKeys) }),
  };
}

/** The series as docs/soak.svg shows them; also callable on a saved result. */
export function writeSoakChart(file: string, result: SoakResult): void {
  const { samples } = result;
  const chart = lineChart(
    `Soak: ${result.minutes} min of mixed load on one server, ${result.driver} driver ` +
      `(sampled every ${result.sampleS} s)`,
    samples.map((s) => s.atS),
    [
      { label: 'RSS, MiB', values: samples.map((s) => s.rssMiB) },
      { label: 'V8 heap used, MiB', values: samples.map((s) => s.heapUsedMiB) },
      {
        label: 'event-loop delay p99, ms',
        values: samples.map((s) => s.loopP99Ms),
        limit: { value: LOOP_P99_BOUND_MS, label: `${LOOP_P99_BOUND_MS} ms` },
      },
      { label: 'open file descriptors', values: samples.map((s) => s.fds) },
      ...(result.driver === 'redis'
        ? [{ label: 'Redis used memory, MiB', values: samples.map((s) => s.redisUsedMiB) }]
        : []),
    ],
  );
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, chart);
}

/** The mixed load: a tick every 100 ms spends each kind's rate, so the load stays steady. */
class Load {
  private readonly heldMs: number[] = [];
  private readonly clients: Client[] = Array.from({ length: 16 }, () => newClient());
  private readonly busy = newClient();
  private readonly sockets = new Set<Socket>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly credit = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private stopping = false;
  private readonly host: string;
  private readonly port: number;
  private readonly counts = {
    created: 0,
    polls: 0,
    batches: 0,
    heldWaits: 0,
    cancelled: 0,
    cancelTooLate: 0,
    streamsOpened: 0,
    streamEvents: 0,
    streamsCutByServer: 0,
    slowChecked: 0,
    slowDropped: 0,
    failures: 0,
  };
  private readonly unexpected: Record<string, number> = {};

  constructor(
    private readonly server: BenchServer,
    private readonly options: SoakOptions,
  ) {
    this.host = server.host;
    this.port = server.port;
  }

  start(): void {
    for (let i = 0; i < this.options.streams; i++) this.openStream();
    for (let i = 0; i < this.options.slowReaders; i++) this.openSlowReader();
    this.timer = setInterval(() => this.tick(), TICK_MS);
  }

  /** Stops making load and lets the requests in flight finish. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.timer);
    await Promise.all(this.inFlight);
  }

  destroy(): void {
    this.stopping = true;
    clearInterval(this.timer);
    for (const socket of this.sockets) socket.destroy();
  }

  summary(): SoakResult['load'] {
    const c = this.counts;
    return {
      created: c.created,
      polls: c.polls,
      batches: c.batches,
      heldWaits: c.heldWaits,
      heldMs: distribution(this.heldMs),
      cancelled: c.cancelled,
      cancelTooLate: c.cancelTooLate,
      streamsOpened: c.streamsOpened,
      streamEvents: c.streamEvents,
      streamsCutByServer: c.streamsCutByServer,
      slowReaders: {
        stallS: this.options.slowReaderStallS,
        checked: c.slowChecked,
        dropped: c.slowDropped,
      },
      unexpected: this.unexpected,
      failures: c.failures,
    };
  }

  private tick(): void {
    const o = this.options;
    // Per second: creates as asked, a poll per create, a batch, a held wait and a cancel every
    // half second or so.
    this.spend('create', o.createsPerS, () => this.create(pick(this.clients)!));
    this.spend('busy', o.busyCreatesPerS, () => this.create(this.busy));
    this.spend('poll', o.createsPerS, () => this.poll());
    this.spend('batch', 2, () => this.batch());
    this.spend('wait', 2, () => this.heldWait());
    this.spend('cancel', 1, () => this.cancel());
  }

  private spend(kind: string, perS: number, act: () => Promise<void>): void {
    let credit = (this.credit.get(kind) ?? 0) + (perS * TICK_MS) / 1000;
    for (; credit >= 1; credit -= 1) this.track(act());
    this.credit.set(kind, credit);
  }

  private track(work: Promise<void>): void {
    const done = work
      .catch(() => {
        this.counts.failures++;
      })
      .finally(() => this.inFlight.delete(done));
    this.inFlight.add(done);
  }

  private url(path: string, client: Client): string {
    return `${this.server.url}${path}${path.includes('?') ? '&' : '?'}uuid=${client.uuid}`;
  }

  private expect(route: string, status: number, ...ok: number[]): boolean {
    if (ok.includes(status)) return true;
    const key = `${route} ${status}`;
    this.unexpected[key] = (this.unexpected[key] ?? 0) + 1;
    return false;
  }

  private async create(client: Client): Promise<void> {
    const duration = Math.round(randomIn(1000, 3000));
    // One job in twenty fails, so failed jobs are part of what is kept and forgotten.
    const body = JSON.stringify(Math.random() < 0.05 ? { duration, fail: true } : { duration });
    const res = await send(this.url('/create', client), 'POST', body);
    if (!this.expect('POST /create', res.status, 201)) return;
    this.counts.created++;
    client.recent.push((JSON.parse(res.body) as { id: number }).id);
    if (client.recent.length > RECENT) client.recent.shift();
  }

  private async poll(): Promise<void> {
    const client = pick(this.clients)!;
    const id = pick(client.recent);
    if (id === undefined) return;
    const res = await send(this.url(`/status/${id}`, client));
    // 404: a job forgotten after RETENTION_MS, or by MAX_JOBS_PER_CLIENT.
    if (this.expect('GET /status/:id', res.status, 200, 404)) this.counts.polls++;
  }

  private async batch(): Promise<void> {
    const client = pick(this.clients)!;
    if (client.recent.length === 0) return;
    const res = await send(this.url(`/status?ids=${client.recent.slice(-20).join(',')}`, client));
    if (this.expect('GET /status?ids', res.status, 200)) this.counts.batches++;
  }

  private async heldWait(): Promise<void> {
    const client = pick(this.clients)!;
    const id = client.recent.at(-1);
    if (id === undefined) return;
    const started = Date.now();
    const res = await send(this.url(`/status/${id}`, client), 'GET', undefined, {
      prefer: 'wait=5',
    });
    if (!this.expect('GET /status/:id (wait)', res.status, 200, 404)) return;
    this.counts.heldWaits++;
    this.heldMs.push(Date.now() - started);
  }

  private async cancel(): Promise<void> {
    const client = pick(this.clients)!;
    const id = client.recent.at(-1);
    if (id === undefined) return;
    const res = await send(this.url(`/cancel/${id}`, client), 'POST');
    if (!this.expect('POST /cancel/:id', res.status, 200, 409, 404)) return;
    if (res.status === 200) this.counts.cancelled++;
    else this.counts.cancelTooLate++;
  }

  /** An ordinary stream: read for 2–20 s, then closed by the client, and another one opened. */
  private openStream(): void {
    if (this.stopping) return;
    const client = pick(this.clients.filter((c) => c.streams < STREAMS_PER_CLIENT))!;
    client.streams++;
    this.counts.streamsOpened++;
    let closedByUs = false;
    const socket = this.connectStream(client, (event) => {
      if (event === 'job' || event === 'snapshot') this.counts.streamEvents++;
    });
    const timer = setTimeout(
      () => {
        closedByUs = true;
        socket.destroy();
      },
      randomIn(2000, 20_000),
    );
    socket.on('close', () => {
      clearTimeout(timer);
      client.streams--;
      if (this.stopping) return;
      if (!closedByUs) this.counts.streamsCutByServer++;
      this.openStream();
    });
  }

  /**
   * A stream of the busy client whose socket stops reading after its first bytes: once the
   * kernel's buffers are full (~4 MB on loopback), the server's per-stream cap must drop it. A
   * socket that reads nothing cannot see the server close it, so after the stall it reads again:
   * a dropped stream ends once the bytes queued before the drop are read; a kept one goes on.
   */
  private openSlowReader(): void {
    if (this.stopping) return;
    const socket = this.connectStream(this.busy, () => {});
    socket.once('data', () => socket.pause());
    let settled = false;
    const settle = (dropped: boolean): void => {
      if (settled || this.stopping) return;
      settled = true;
      this.counts.slowChecked++;
      if (dropped) this.counts.slowDropped++;
      socket.destroy();
      this.openSlowReader();
    };
    const stall = setTimeout(() => {
      socket.resume();
      // Still streaming 3 s after reading again: the server kept it.
      setTimeout(() => settle(false), 3000);
    }, this.options.slowReaderStallS * 1000);
    // Ended once read again (or reset while stalled): the server dropped it.
    socket.on('close', () => {
      clearTimeout(stall);
      settle(true);
    });
  }

  /** A stream over a raw socket. */
  private connectStream(client: Client, onEvent: (event: string) => void): Socket {
    const socket = connect({ host: this.host, port: this.port });
    this.sockets.add(socket);
    socket.write(
      `GET /status?uuid=${client.uuid} HTTP/1.1\r\nHost: ${this.host}:${this.port}\r\nAccept: text/event-stream\r\n\r\n`,
    );
    let head = '';
    let headDone = false;
    const parser = createFrameParser(({ event }) => event !== undefined && onEvent(event));
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      if (headDone) return parser.feed(chunk);
      head += chunk;
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      headDone = true;
      if (!this.expect('GET /status (stream)', Number(head.slice(9, 12)), 200)) {
        socket.destroy();
        return;
      }
      // The server writes each frame as one HTTP chunk: the chunk-size lines between frames
      // reach the parser as unknown fields, which it skips.
      parser.feed(head.slice(end + 4));
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.sockets.delete(socket);
    });
    return socket;
  }
}

function newClient(): Client {
  return { uuid: crypto.randomUUID(), recent: [], streams: 0 };
}
