import {
  Inject,
  Injectable,
  Optional,
  type BeforeApplicationShutdown,
  type OnModuleDestroy,
} from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import { JobWatches } from '../deadlines/job-watches.js';
import { type ClientKey } from '../domain/client.js';
import { isFinished, type Job } from '../domain/job.js';
import { JOB_EVENTS, type JobEvents } from '../events/job-events.js';
import { AppMetrics } from '../metrics/app-metrics.js';

/**
 * How long shutdown waits for the answers it gave held requests to be written, before the server
 * closes every connection (Nest closes them right after the shutdown hooks).
 */
const SHUTDOWN_DRAIN_MS = 1000;

/** What ends a held request early when it closes: its response, the connection it came on. */
export interface Closable {
  readonly destroyed: boolean;
  once(event: 'close', listener: () => void): unknown;
  removeListener(event: 'close', listener: () => void): unknown;
}

/** The part of Node's response a held request needs: its close, and when its answer is out. */
export interface WaitResponse extends Closable {
  readonly writableFinished: boolean;
  once(event: 'close' | 'finish', listener: () => void): unknown;
  removeListener(event: 'close' | 'finish', listener: () => void): unknown;
}

/** The jobs an answer lists: those found, in the order asked, and the ids not found. */
export interface Listed {
  jobs: Job[];
  missing: number[];
  /** `Cancel-After` deadlines of listed unfinished jobs that have one (ms): for the poll hint. */
  deadlines?: ReadonlyMap<number, number>;
  /** A page of the list of all jobs (never held): more jobs follow its last one. */
  more?: boolean;
}

/** One status request that may be held (docs/protocol.md, "Held waits"). */
export interface WaitRequest {
  clientId: ClientKey;
  /** The ids asked for; undefined: every job of the client (the batch without `ids`). */
  ids: readonly number[] | undefined;
  /**
   * The revision the client has of each id asked for; undefined: it waits for a final state.
   */
  revisions: ReadonlyMap<number, number> | undefined;
  /** What `Prefer: wait` asked for, in seconds (Infinity: the longest); undefined: no wait. */
  seconds: number | undefined;
  /** The answer without a wait: the listed jobs as they are now. */
  read(): Promise<Listed>;
  response: WaitResponse;
  socket: Closable | null;
}

/**
 * How a request ended: `not-held` (no wait asked, waits off, a limit reached or the server
 * stopping), `ready` (a listed job had news already), `woken` (one got news while held),
 * `deadline`, `shutdown` (the server stopped while it was held) or `closed` (the client left).
 */
export type WaitEnd = 'not-held' | 'ready' | 'woken' | 'deadline' | 'shutdown' | 'closed';

export interface WaitOutcome {
  listed: Listed;
  /** The wait applied, in seconds, for `Preference-Applied`; undefined when none was. */
  appliedS: number | undefined;
  end: WaitEnd;
}

/** What is held now, for leak checks: every count is 0 when nothing waits. */
export interface WaitCounts {
  /** Requests held (each with one subscription and at most one timer). */
  held: number;
  /** Deadline timers set. */
  timers: number;
  /** Requests counted against the limits, held or being read. */
  taken: number;
  /** Clients with a request counted. */
  clients: number;
}

/** A held request, as shutdown sees it. */
interface Held {
  end(how: WaitEnd): void;
  response: WaitResponse;
}

/**
 * Server-held waits of GET /status/:id and the batch (RFC 7240 `Prefer: wait`): holds a request
 * until a listed job has news for its client, or the wait ends. Each held request costs one
 * subscription to its client's events and one timer, its deadline, both released the moment it
 * is answered, its client leaves or the server stops. It works through the JobEvents port, so with
 * either driver.
 */
@Injectable()
export class JobWaits implements OnModuleDestroy, BeforeApplicationShutdown {
  private readonly perClient = new Map<ClientKey, number>();
  private taken = 0;
  private timers = 0;
  private readonly held = new Set<Held>();
  private shuttingDown = false;
  /** The responses of the requests answered at shutdown, until they are written. */
  private endedAtShutdown: WaitResponse[] = [];

  constructor(
    @Inject(AppConfig) private readonly config: AppConfig,
    @Inject(JOB_EVENTS) private readonly events: JobEvents,
    @Inject(AppMetrics) private readonly metrics: AppMetrics = new AppMetrics(),
    // Each driver's (JobsModule); optional for unit tests that build the waits by hand.
    @Optional() @Inject(JobWatches) private readonly watches?: JobWatches,
  ) {
    metrics.readAtScrape('heldWaits', () => this.held.size);
  }

  get counts(): WaitCounts {
    return {
      held: this.held.size,
      timers: this.timers,
      taken: this.taken,
      clients: this.perClient.size,
    };
  }

  /**
   * The answer to `request`: at once when no wait applies or a listed job already has news, else
   * when one gets news, when the wait ends, or when the server stops.
   */
  async wait(request: WaitRequest): Promise<WaitOutcome> {
    // Every status read watches the jobs it lists, for as long as it is held (cancelWhenUnwatched).
    const unwatch = this.watches?.watch(request.clientId, request.ids);
    try {
      return await this.answer(request);
    } finally {
      unwatch?.();
    }
  }

  private async answer(request: WaitRequest): Promise<WaitOutcome> {
    const seconds = this.take(request);
    if (seconds === undefined) {
      return { listed: await request.read(), appliedS: undefined, end: 'not-held' };
    }
    try {
      // Most waits need no holding (a first look, a job already done): no subscription for them.
      const watch = new Watch(request);
      watch.read(await request.read());
      if (watch.ready()) return { listed: watch.listed(), appliedS: seconds, end: 'ready' };
      return await this.hold(request, seconds);
    } finally {
      this.release(request.clientId);
    }
  }

  /**
   * Answers every held request as it is when the server stops, so none delays the shutdown: in
   * the first round of hooks, before any slow one (the runner's hand-over waits up to 3 s for a
   * Redis that does not answer, review of 2026-12-01).
   */
  onModuleDestroy(): void {
    this.shuttingDown = true;
    this.endedAtShutdown = [...this.held].map(({ response }) => response);
    for (const wait of this.held) wait.end('shutdown');
  }

  /** Waits until those answers are written, before the server closes every connection. */
  async beforeApplicationShutdown(): Promise<void> {
    await answered(this.endedAtShutdown, SHUTDOWN_DRAIN_MS);
  }

  /**
   * Takes a slot for the request, or says why it is not held. The seconds applied: what was asked,
   * at most MAX_WAIT_S; undefined when no wait applies.
   */
  private take({ clientId, seconds }: WaitRequest): number | undefined {
    if (seconds === undefined || seconds <= 0 || this.config.maxWaitS === 0) return undefined;
    if (this.shuttingDown) return undefined;
    const count = this.perClient.get(clientId) ?? 0;
    if (count >= this.config.maxWaitsPerClient || this.taken >= this.config.maxWaits) {
      return undefined;
    }
    this.perClient.set(clientId, count + 1);
    this.taken += 1;
    return Math.min(seconds, this.config.maxWaitS);
  }

  private release(clientId: ClientKey): void {
    this.taken -= 1;
    const left = (this.perClient.get(clientId) ?? 1) - 1;
    if (left > 0) this.perClient.set(clientId, left);
    else this.perClient.delete(clientId);
  }

  private async hold(request: WaitRequest, seconds: number): Promise<WaitOutcome> {
    const { clientId, response, socket } = request;
    const watch = new Watch(request);
    let ended: WaitEnd | undefined;
    let settle: (how: WaitEnd) => void = () => {};
    const done = new Promise<WaitEnd>((resolve) => (settle = resolve));
    const end = (how: WaitEnd): void => {
      if (ended !== undefined) return;
      ended = how;
      settle(how);
    };
    const closed = (): void => end('closed');
    const held: Held = { end, response };
    this.metrics.waitHeld();
    let timer: NodeJS.Timeout | undefined;

    // Subscribe first, then read: a change between the two is then in the read or delivered.
    // Events lost (Redis lost its data, or a gap it no longer keeps): what the copies say may be
    // stale, so the answer is read afresh, as a poll now would be (review of 2026-12-01: a wait
    // held its 20 s and answered a job Redis no longer had, where a poll answered 404).
    let stale = false;
    const unsubscribe = this.events.subscribe(
      clientId,
      ({ job }) => {
        if (watch.see(job)) end('woken');
      },
      () => {
        stale = true;
        end('woken');
      },
    );
    response.once('close', closed);
    socket?.once('close', closed);
    this.held.add(held);
    try {
      if (response.destroyed || socket?.destroyed === true) end('closed');
      if (this.shuttingDown) end('shutdown');
      // The redis driver delivers events once Redis confirms the subscription; `head` waits for
      // that (the stream's snapshot relies on it too), so no change after the read is missed.
      await this.events.head(clientId);
      watch.read(await request.read());
      if (watch.ready()) end('ready');
      if (ended === undefined) {
        timer = setTimeout(() => end('deadline'), seconds * 1000);
        this.timers += 1;
      }
      const how = await done;
      const applied = how !== 'shutdown' && how !== 'closed';
      const listed = stale ? await request.read() : watch.listed();
      return { listed, appliedS: applied ? seconds : undefined, end: how };
    } finally {
      if (timer !== undefined) {
        clearTimeout(timer);
        this.timers -= 1;
      }
      unsubscribe();
      response.removeListener('close', closed);
      socket?.removeListener('close', closed);
      this.held.delete(held);
    }
  }
}

/**
 * What one request watches, and the newest copy of each listed job: from its read, then from the
 * client's events.
 */
class Watch {
  private readonly ids: ReadonlySet<number> | undefined;
  private readonly revisions: ReadonlyMap<number, number> | undefined;
  private readonly latest = new Map<number, Job>();
  /** The listed ids in the order of the read; undefined until it is in. */
  private order: number[] | undefined;
  private missing: number[] = [];
  private deadlines: Listed['deadlines'];

  constructor({ ids, revisions }: WaitRequest) {
    this.ids = ids && new Set(ids);
    this.revisions = revisions;
  }

  /** Takes the read (copies seen meanwhile are kept when newer). */
  read({ jobs, missing, deadlines }: Listed): void {
    this.order = jobs.map((job) => job.id);
    this.missing = missing;
    this.deadlines = deadlines;
    for (const job of jobs) this.keep(job);
  }

  /**
   * Takes a job from an event; true when it is news the client waits for: newer than the revision
   * it has, or (when it named none) finished.
   */
  see(job: Job): boolean {
    if (this.ids !== undefined && !this.ids.has(job.id)) return false;
    if (!this.keep(job)) return false;
    const known = this.revisions?.get(job.id);
    return known === undefined ? isFinished(job) : job.revision > known;
  }

  /**
   * Whether the read already answers: a listed job is finished (no revisions named), or is not at
   * the revision named (behind it: news; ahead of it: not a copy the client can have, so waiting
   * for it to move past would be waiting for nothing), or no listed job can change any more.
   */
  ready(): boolean {
    const jobs = this.listed().jobs;
    const news = (job: Job): boolean => {
      const known = this.revisions?.get(job.id);
      return known === undefined ? isFinished(job) : job.revision !== known;
    };
    return jobs.some(news) || jobs.every(isFinished);
  }

  /**
   * The answer: the listed jobs, newest copies, in the order read; without `ids`, followed by any
   * job the client created meanwhile.
   */
  listed(): Listed {
    const order = this.order ?? [];
    const ids = this.ids === undefined ? [...order, ...this.created(order)] : order;
    const jobs = ids.map((id) => this.latest.get(id)!);
    return { jobs, missing: this.missing, ...(this.deadlines && { deadlines: this.deadlines }) };
  }

  private created(order: number[]): number[] {
    const read = new Set(order);
    return [...this.latest.keys()].filter((id) => !read.has(id)).sort((a, b) => a - b);
  }

  /** Keeps the copy unless a newer one is kept already; true when it was kept. */
  private keep(job: Job): boolean {
    const kept = this.latest.get(job.id);
    if (kept !== undefined && kept.revision >= job.revision) return false;
    this.latest.set(job.id, job);
    return true;
  }
}

/** Settles once every response has been written or has closed, or after `limitMs`. */
async function answered(responses: WaitResponse[], limitMs: number): Promise<void> {
  const pending = responses.filter((response) => !response.writableFinished && !response.destroyed);
  if (pending.length === 0) return;
  let timer: NodeJS.Timeout | undefined;
  const out = (response: WaitResponse): Promise<void> =>
    new Promise((resolve) => {
      response.once('finish', resolve);
      response.once('close', resolve);
    });
  await Promise.race([
    Promise.all(pending.map(out)),
    new Promise<void>((resolve) => (timer = setTimeout(resolve, limitMs))),
  ]);
  clearTimeout(timer);
}
