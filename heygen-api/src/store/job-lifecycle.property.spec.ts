import fc from 'fast-check';
import { fakeClock, type FakeClock } from 'heygen-test-support';
import { propertyParameters } from 'heygen-test-support/property';
import { describe, expect, it } from 'vitest';
import { clientStub, configStub, otherClientStub, thirdClientStub } from '../../test/unit/stubs.js';
import { type AppConfig } from '../config/app-config.js';
import { type ClientKey } from '../domain/client.js';
import { fail, isFinished, type Job, type JobStatus } from '../domain/job.js';
import { DomainError } from '../errors/domain-error.js';
import { type ErrorCode } from '../errors/error-code.js';
import { InMemoryJobEvents } from '../events/in-memory-job-events.js';
import { type JobEvent } from '../events/job-events.js';
import { JobsService, type JobRequest } from '../jobs/jobs.service.js';
import { type ApplyTransition } from '../runner/job-runner.js';
import { SIMULATED_FAILURE, SimulatedJobRunner } from '../runner/simulated-job-runner.js';
import { InMemoryJobStore } from './in-memory-job-store.js';

// Model-based property test of the in-memory job lifecycle (issue 13): random creations,
// cancellations, worker failures and clock moves, run through JobsService on the real in-memory
// store, events and simulated runner, with every limit small enough to be hit. The model learns each
// change from the event stream (which in memory tells every change) and checks, after every command,
// that the store agrees with it and that the rules of docs/protocol.md ("The job object", "Limits")
// hold.

const CLIENTS: readonly ClientKey[] = [clientStub, otherClientStub, thirdClientStub];
/** Few keys, so that retries and reuses with another body happen. */
const IDEMPOTENCY_KEYS = ['a', 'b'] as const;
const MAX_JOB_TIME_MS = 2000;
/** A failure reported by a worker (a crash, say), told apart from the simulated one by its code. */
const WORKER_FAILURE = { code: 'WORKER_LOST', message: 'The worker running the job died' };

/** Where each status may go next (docs/protocol.md, "Lifecycle"): forward only, never out of a finish. */
const NEXT_STATUSES: Readonly<Record<JobStatus, readonly JobStatus[]>> = {
  pending: ['running', 'cancelled'],
  running: ['running', 'completed', 'failed', 'cancelled'],
  completed: [],
  failed: [],
  cancelled: [],
};

/** The limits of one run: small, so that a few dozen commands hit each of them. */
interface Settings {
  activePerClient: number;
  moreKept: number;
  active: number;
  moreRetained: number;
  retentionMs: number;
}

// One client's cap is at most everyone's (app-config.ts refuses more).
const settingsArb: fc.Arbitrary<Settings> = fc.integer({ min: 1, max: 5 }).chain((active) =>
  fc.record({
    activePerClient: fc.integer({ min: 1, max: Math.min(3, active) }),
    moreKept: fc.integer({ min: 0, max: 2 }),
    active: fc.constant(active),
    moreRetained: fc.integer({ min: 0, max: 3 }),
    retentionMs: fc.integer({ min: 100, max: 10_000 }),
  }),
);

const configOf = ({
  activePerClient,
  moreKept,
  active,
  moreRetained,
  retentionMs,
}: Settings): AppConfig =>
  configStub({
    MAX_ACTIVE_JOBS_PER_CLIENT: String(activePerClient),
    // The config requires kept ≥ active per client, and retained ≥ active (app-config.ts).
    MAX_JOBS_PER_CLIENT: String(activePerClient + moreKept),
    MAX_ACTIVE_JOBS: String(active),
    MAX_RETAINED_JOBS: String(active + moreRetained),
    RETENTION_MS: String(retentionMs),
    MAX_JOB_TIME_MS: String(MAX_JOB_TIME_MS),
  });

/** A job as the model knows it. */
interface Tracked {
  clientId: ClientKey;
  id: number;
  duration: number;
  fail: boolean;
  idempotencyKey: string | undefined;
  /** The job as it was created, then as its last event told it: what the store must answer. */
  job: Job;
  /** Whether its `created` event was seen. */
  announced: boolean;
  /** Rank among finished jobs, by finish: the order in which limits evict them. */
  finishRank: number;
  /** Expired or evicted: answers "not found" from then on. */
  gone: boolean;
}

/** The system under test: the service on the real in-memory collaborators, and their probes. */
interface System extends Disposable {
  sut: JobsService;
  store: InMemoryJobStore;
  runner: SimulatedJobRunner;
  clock: FakeClock;
  /** The runner's channel to each job, by `client#id`, as the service handed it over. */
  applies: Map<string, ApplyTransition>;
}

const jobKey = (clientId: ClientKey, id: number): string => `${clientId}#${id}`;
const timeOf = (iso: string | undefined): number => (iso === undefined ? NaN : Date.parse(iso));

class Model {
  /** Every job ever created, in creation order. */
  readonly jobs: Tracked[] = [];
  /** Events published since the last check, in order. */
  readonly events: JobEvent[] = [];
  private readonly byKey = new Map<string, Tracked>();
  private readonly lastEventId = new Map<ClientKey, number>();
  private finishes = 0;

  constructor(readonly config: AppConfig) {}

  find(clientId: ClientKey, id: number): Tracked | undefined {
    return this.byKey.get(jobKey(clientId, id));
  }

  /** Jobs the store must still hold: of one client, or of all. */
  kept(clientId?: ClientKey): Tracked[] {
    return this.jobs.filter((t) => !t.gone && (clientId === undefined || t.clientId === clientId));
  }

  lastJobId(clientId: ClientKey): number {
    return Math.max(0, ...this.jobs.filter((t) => t.clientId === clientId).map((t) => t.id));
  }

  add(tracked: Tracked): void {
    this.jobs.push(tracked);
    this.byKey.set(jobKey(tracked.clientId, tracked.id), tracked);
  }

  /** What a creation must answer, computed from the rules alone (jobs.service.ts, job-store.ts). */
  expectCreate(clientId: ClientKey, request: JobRequest, key: string | undefined): Expectation {
    const { config } = this;
    const duration = request.duration ?? config.jobTimeMs;
    const shouldFail = request.fail ?? false;
    if (duration > config.maxJobTimeMs) return { outcome: 'refused', code: 'INVALID_BODY' };
    const own = this.kept(clientId);
    const earlier = key === undefined ? undefined : own.find((t) => t.idempotencyKey === key);
    // A retry gets its job back before any limit is looked at: it creates nothing.
    if (earlier) {
      return earlier.duration === duration && earlier.fail === shouldFail
        ? { outcome: 'existing', tracked: earlier }
        : { outcome: 'refused', code: 'IDEMPOTENCY_KEY_REUSED' };
    }
    const all = this.kept();
    const unfinished = (jobs: Tracked[]) => jobs.filter((t) => !isFinished(t.job)).length;
    if (unfinished(own) >= config.maxActiveJobsPerClient) {
      return { outcome: 'refused', code: 'TOO_MANY_JOBS' };
    }
    if (unfinished(all) >= config.maxActiveJobs) {
      return { outcome: 'refused', code: 'SERVER_JOBS_FULL' };
    }
    // Room is made by forgetting the oldest finished jobs: the client's first, then anyone's.
    const oldestFinished = (jobs: Tracked[]) =>
      jobs.filter((t) => isFinished(t.job)).sort((a, b) => a.finishRank - b.finishRank);
    const evicted = new Set<Tracked>();
    for (const t of oldestFinished(own)) {
      if (own.length - evicted.size < config.maxJobsPerClient) break;
      evicted.add(t);
    }
    for (const t of oldestFinished(all).filter((job) => !evicted.has(job))) {
      if (all.length - evicted.size < config.maxRetainedJobs) break;
      evicted.add(t);
    }
    return { outcome: 'created', evicted };
  }

  /** Learns the changes the events told since the last call, checking each against the rules. */
  drainEvents(): void {
    for (const event of this.events.splice(0)) this.learn(event);
  }

  private learn({ id, clientId, job }: JobEvent): void {
    const label = `event ${id} of job ${jobKey(clientId, job.id)}`;
    expect(id, `${label}: a numeric id`).toMatch(/^\d+$/);
    expect(Number(id), `${label}: ids grow`).toBeGreaterThan(this.lastEventId.get(clientId) ?? 0);
    this.lastEventId.set(clientId, Number(id));
    expect(job.eventId, `${label}: the job names its event`).toBe(id);
    const tracked = this.find(clientId, job.id);
    if (!tracked) throw new Error(`${label}: a job that was never created`);
    expect(tracked.gone, `${label}: a job forgotten changed`).toBe(false);
    const previous = tracked.job;
    if (!tracked.announced) {
      expect(job, `${label}: the created event is the job created`).toEqual(previous);
      tracked.announced = true;
      return;
    }
    expect(
      NEXT_STATUSES[previous.status],
      `${label}: ${previous.status} → ${job.status}`,
    ).toContain(job.status);
    expect(job.revision, `${label}: the revision grows by one`).toBe(previous.revision + 1);
    const identity = ({ id, duration, createdAt, expectedAt }: Job) => ({
      id,
      duration,
      createdAt,
      expectedAt,
    });
    expect(identity(job), `${label}: what never changes`).toEqual(identity(previous));
    const updatedAt = timeOf(job.updatedAt);
    expect(updatedAt, `${label}: changed after`).toBeGreaterThanOrEqual(timeOf(previous.updatedAt));
    expect(updatedAt, `${label}: changed before now`).toBeLessThanOrEqual(Date.now());
    if (previous.startedAt !== undefined) expect(job.startedAt).toBe(previous.startedAt);
    if (job.status === 'running' && previous.status === 'running') {
      expect(job.progress, `${label}: progress moves forward`).toBeGreaterThan(previous.progress);
      expect(job.progress, `${label}: 100 only once completed`).toBeLessThan(100);
    }
    // The runner ends a job at its expected finish, as its creation asked (docs/protocol.md).
    if (job.status === 'completed' || job.error?.code === SIMULATED_FAILURE.code) {
      expect(job.finishedAt, `${label}: ends at its expected finish`).toBe(job.expectedAt);
    }
    if (job.status === 'completed') {
      expect(tracked.fail, `${label}: completed though asked to fail`).toBe(false);
      expect(job.progress).toBe(100);
    }
    if (job.status === 'failed') {
      expect([SIMULATED_FAILURE, WORKER_FAILURE]).toContainEqual(job.error);
      if (job.error?.code === SIMULATED_FAILURE.code) expect(tracked.fail).toBe(true);
    }
    if (isFinished(job)) tracked.finishRank = ++this.finishes;
    tracked.job = job;
  }
}

type Expectation =
  | { outcome: 'refused'; code: ErrorCode }
  | { outcome: 'existing'; tracked: Tracked }
  | { outcome: 'created'; evicted: ReadonlySet<Tracked> };

/** The domain error's code, or the value: a refusal is an answer to compare, not a crash. */
const answerOf = <T>(promise: Promise<T>): Promise<T | { refused: ErrorCode }> =>
  promise.catch((error: unknown) => {
    if (error instanceof DomainError) return { refused: error.code };
    throw error;
  });

/**
 * Checks, after a command, everything that must hold whatever the command was: the changes the
 * events told, the store agreeing with them, what was forgotten and why, the limits, and the leaks.
 * `evicted`: the jobs the command was expected to evict to make room.
 */
async function checkInvariants(
  m: Model,
  r: System,
  evicted: ReadonlySet<Tracked> = new Set(),
): Promise<void> {
  m.drainEvents();
  const now = Date.now();
  const retentionMs = m.config.retentionMs;
  for (const clientId of CLIENTS) {
    const listed = await r.sut.list(clientId);
    const ids = listed.map((job) => job.id);
    expect(ids, 'listed oldest first').toEqual([...ids].sort((a, b) => a - b));
    for (const job of listed) {
      const tracked = m.find(clientId, job.id);
      expect(tracked && !tracked.gone, `job ${jobKey(clientId, job.id)} is listed`).toBe(true);
      expect(job, 'the store agrees with the last event').toEqual(tracked?.job);
    }
    for (const tracked of m.kept(clientId)) {
      const { job } = tracked;
      const expiry = timeOf(job.finishedAt) + retentionMs;
      const label = `job ${jobKey(clientId, job.id)} (${job.status})`;
      if (ids.includes(job.id)) {
        expect(evicted.has(tracked), `${label} should have been evicted`).toBe(false);
        if (isFinished(job)) expect(expiry, `${label} kept past RETENTION_MS`).toBeGreaterThan(now);
        continue;
      }
      expect(isFinished(job), `${label} forgotten unfinished`).toBe(true);
      expect(evicted.has(tracked) || expiry <= now, `${label} forgotten too early`).toBe(true);
      expect(await answerOf(r.sut.get(clientId, job.id))).toEqual({ refused: 'JOB_NOT_FOUND' });
      tracked.gone = true;
    }
  }
  for (const tracked of evicted) expect(tracked.gone, `${tracked.id} evicted`).toBe(true);

  const { config } = m;
  const unfinished = (jobs: Tracked[]) => jobs.filter((t) => !isFinished(t.job));
  for (const clientId of CLIENTS) {
    const own = m.kept(clientId);
    expect(unfinished(own).length).toBeLessThanOrEqual(config.maxActiveJobsPerClient);
    expect(own.length).toBeLessThanOrEqual(config.maxJobsPerClient);
  }
  const active = unfinished(m.kept());
  expect(active.length).toBeLessThanOrEqual(config.maxActiveJobs);
  expect(m.kept().length).toBeLessThanOrEqual(config.maxRetainedJobs);
  // The counters agree with what is kept, and every unfinished job is worked on, nothing else.
  expect(r.store.activeCount).toBe(active.length);
  expect(r.store.retained).toBe(m.kept().length);
  expect(r.runner.running).toBe(active.length);
  for (const { job } of active) {
    expect(timeOf(job.expectedAt), `job ${job.id} late`).toBeGreaterThanOrEqual(now);
  }
}

class CreateCommand implements fc.AsyncCommand<Model, System> {
  constructor(
    readonly client: number,
    readonly request: JobRequest,
    readonly key: string | undefined,
  ) {}

  check = () => true;

  async run(m: Model, r: System): Promise<void> {
    const clientId = CLIENTS[this.client]!;
    const expected = m.expectCreate(clientId, this.request, this.key);
    const lastId = m.lastJobId(clientId);
    const answer = await answerOf(r.sut.create(clientId, this.request, this.key));
    switch (expected.outcome) {
      case 'refused':
        expect(answer).toEqual({ refused: expected.code });
        return checkInvariants(m, r);
      case 'existing':
        expect(answer).toEqual({ job: expected.tracked.job, created: false });
        return checkInvariants(m, r);
      case 'created': {
        if ('refused' in answer) throw new Error(`refused ${answer.refused}, expected a new job`);
        const { job, created } = answer;
        expect(created).toBe(true);
        expect(Number.isSafeInteger(job.id), `id ${job.id} is an integer`).toBe(true);
        expect(job.id, 'ids grow, and never come again').toBeGreaterThan(lastId);
        const duration = this.request.duration ?? m.config.jobTimeMs;
        expect(job).toMatchObject({ status: 'pending', revision: 1, progress: 0, duration });
        expect(timeOf(job.expectedAt)).toBe(Date.now() + duration);
        m.add({
          clientId,
          id: job.id,
          duration,
          fail: this.request.fail ?? false,
          idempotencyKey: this.key,
          job,
          announced: false,
          finishRank: Infinity,
          gone: false,
        });
        await checkInvariants(m, r, expected.evicted);
        expect(m.find(clientId, job.id)?.announced, 'its created event was published').toBe(true);
        expect(r.applies.has(jobKey(clientId, job.id)), 'handed to the runner').toBe(true);
        return;
      }
    }
  }

  toString(): string {
    return `create(client ${this.client}, ${JSON.stringify(this.request)}, key ${this.key})`;
  }
}

/** Sends a creation that had an idempotency key again, as a client whose answer was lost would. */
class RetryCommand implements fc.AsyncCommand<Model, System> {
  constructor(readonly pick: number) {}

  check = (m: Readonly<Model>) => m.jobs.some((t) => t.idempotencyKey !== undefined);

  run(m: Model, r: System): Promise<void> {
    const keyed = m.jobs.filter((t) => t.idempotencyKey !== undefined);
    const {
      clientId,
      duration,
      fail: shouldFail,
      idempotencyKey,
    } = keyed[this.pick % keyed.length]!;
    const request = { duration, fail: shouldFail };
    return new CreateCommand(CLIENTS.indexOf(clientId), request, idempotencyKey).run(m, r);
  }

  toString(): string {
    return `retry(keyed job #${this.pick})`;
  }
}

/**
 * Cancels one of the jobs the client has, or any job ever created: a forgotten one, or another
 * client's (its id probes ownership).
 */
class CancelCommand implements fc.AsyncCommand<Model, System> {
  constructor(
    readonly client: number,
    readonly pick: number,
    readonly foreign: boolean,
  ) {}

  check = () => true;

  async run(m: Model, r: System): Promise<void> {
    const clientId = CLIENTS[this.client]!;
    const own = m.kept(clientId);
    const pool = this.foreign || own.length === 0 ? m.jobs : own;
    // With no job yet, an id nobody was given.
    const id = pool[this.pick % Math.max(1, pool.length)]?.id ?? Date.now();
    const target = m.find(clientId, id);
    const before = target?.job;
    const answer = await answerOf(r.sut.cancel(clientId, id));
    if (!target || target.gone || !before) {
      expect(answer).toEqual({ refused: 'JOB_NOT_FOUND' });
    } else if (isFinished(before)) {
      expect(answer).toEqual({ refused: 'JOB_FINISHED' });
    } else {
      expect(answer).toMatchObject({
        status: 'cancelled',
        revision: before.revision + 1,
        finishedAt: new Date().toISOString(),
      });
    }
    await checkInvariants(m, r);
    if (target && !('refused' in answer)) expect(answer).toEqual(target.job);
  }

  toString(): string {
    return `cancel(client ${this.client}, ${this.foreign ? 'any' : 'own'} job #${this.pick})`;
  }
}

/** A worker reports a job failed, through the runner's channel to the service, and lets it go. */
class WorkerFailsCommand implements fc.AsyncCommand<Model, System> {
  constructor(readonly pick: number) {}

  check = (m: Readonly<Model>) => m.jobs.length > 0;

  async run(m: Model, r: System): Promise<void> {
    const target = m.jobs[this.pick % m.jobs.length]!;
    const apply = r.applies.get(jobKey(target.clientId, target.id));
    if (!apply) throw new Error(`job ${target.id} was never handed to the runner`);
    const before = target.job;
    const answer = (await apply(fail(WORKER_FAILURE))) as Job | undefined;
    if (!target.gone && before.status === 'running') {
      expect(answer).toMatchObject({
        status: 'failed',
        error: WORKER_FAILURE,
        revision: before.revision + 1,
      });
      r.runner.stop(target.clientId, target.id);
    } else {
      // Only a running job can fail: a pending, finished or forgotten one is left as it is.
      expect(answer).toBeUndefined();
    }
    await checkInvariants(m, r);
  }

  toString(): string {
    return `workerFails(job #${this.pick})`;
  }
}

class AdvanceCommand implements fc.AsyncCommand<Model, System> {
  constructor(readonly ms: number) {}

  check = () => true;

  async run(m: Model, r: System): Promise<void> {
    await r.clock.advance(this.ms);
    await checkInvariants(m, r);
  }

  toString(): string {
    return `advance(${this.ms})`;
  }
}

/** Moves the clock to just before, or exactly to, the moment the oldest finished job expires. */
class RetentionSweepCommand implements fc.AsyncCommand<Model, System> {
  constructor(readonly reach: boolean) {}

  check = (m: Readonly<Model>) => m.kept().some((t) => isFinished(t.job));

  async run(m: Model, r: System): Promise<void> {
    const finishes = m.kept().flatMap(({ job }) => (isFinished(job) ? timeOf(job.finishedAt) : []));
    const expiry = Math.min(...finishes) + m.config.retentionMs;
    await r.clock.advance(expiry - Date.now() - (this.reach ? 0 : 1));
    await checkInvariants(m, r);
  }

  toString(): string {
    return this.reach ? 'sweepAtExpiry()' : 'sweepJustBeforeExpiry()';
  }
}

const clientArb = fc.integer({ min: 0, max: CLIENTS.length - 1 });
const requestArb: fc.Arbitrary<JobRequest> = fc
  .record({
    // Mostly short jobs, some over MAX_JOB_TIME_MS; absent: JOB_TIME.
    duration: fc.option(
      fc.oneof(
        { weight: 8, arbitrary: fc.integer({ min: 0, max: MAX_JOB_TIME_MS }) },
        {
          weight: 1,
          arbitrary: fc.integer({ min: MAX_JOB_TIME_MS + 1, max: 3 * MAX_JOB_TIME_MS }),
        },
      ),
      { nil: undefined },
    ),
    fail: fc.option(fc.boolean(), { nil: undefined }),
  })
  // exactOptionalPropertyTypes: an absent field, not one set to undefined.
  .map(({ duration, fail: shouldFail }) => ({
    ...(duration !== undefined && { duration }),
    ...(shouldFail !== undefined && { fail: shouldFail }),
  }));

const commandsArb = fc.commands(
  [
    fc
      .tuple(
        clientArb,
        requestArb,
        fc.option(fc.constantFrom(...IDEMPOTENCY_KEYS), { nil: undefined }),
      )
      .map(([client, request, key]) => new CreateCommand(client, request, key)),
    fc
      .tuple(clientArb, fc.nat(), fc.boolean())
      .map(([client, pick, foreign]) => new CancelCommand(client, pick, foreign)),
    fc.nat().map((pick) => new RetryCommand(pick)),
    fc.nat().map((pick) => new WorkerFailsCommand(pick)),
    fc.integer({ min: 0, max: 300 }).map((ms) => new AdvanceCommand(ms)),
    fc.integer({ min: 1000, max: 4000 }).map((ms) => new AdvanceCommand(ms)),
    fc.boolean().map((reach) => new RetentionSweepCommand(reach)),
  ],
  // Runs of up to 40 commands, not the few that the default size gives: limits need many to be hit.
  { maxCommands: 40, size: 'max' },
);

/** The service on a fresh in-memory store, events and runner, on the fake clock. */
function newSystem(config: AppConfig, clock: FakeClock, events: JobEvent[]): System {
  const store = new InMemoryJobStore(config);
  const jobEvents = new InMemoryJobEvents(config);
  const runner = new SimulatedJobRunner(config);
  const applies = new Map<string, ApplyTransition>();
  const sut = new JobsService(config, store, jobEvents, {
    run: (record, apply) => {
      applies.set(jobKey(record.clientId, record.job.id), apply);
      runner.run(record, apply);
    },
    stop: (clientId, id) => runner.stop(clientId, id),
  });
  for (const clientId of CLIENTS) jobEvents.subscribe(clientId, (event) => events.push(event));
  return {
    sut,
    store,
    runner,
    clock,
    applies,
    [Symbol.dispose]: () => {
      runner.onModuleDestroy();
      store.onModuleDestroy();
      jobEvents.onModuleDestroy();
    },
  };
}

describe('job lifecycle, in memory', () => {
  it('should move jobs forward only, keep them within the limits and forget only finished ones', async () => {
    await fc.assert(
      fc.asyncProperty(settingsArb, commandsArb, async (settings, commands) => {
        const config = configOf(settings);
        using clock = fakeClock();
        const model = new Model(config);
        using system = newSystem(config, clock, model.events);
        await fc.asyncModelRun(() => ({ model, real: system }), commands);
      }),
      propertyParameters(),
    );
  });
});
