import { EventEmitter } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import { fakeClock } from 'heygen-test-support';
import { clientStub, configStub, otherClientStub } from '../../test/unit/stubs.js';
import {
  cancel,
  complete,
  newJob,
  progressTo,
  start,
  type Job,
  type JobTransition,
} from '../domain/job.js';
import { InMemoryJobEvents } from '../events/in-memory-job-events.js';
import { type JobEvents } from '../events/job-events.js';
import { JobWaits, type Listed, type WaitOutcome, type WaitRequest } from './job-waits.js';

/** A response or a socket: closes when told, and says when its answer is written. */
class FakeConnection extends EventEmitter {
  destroyed = false;
  writableFinished = false;

  close(): void {
    this.destroyed = true;
    this.emit('close');
  }

  finish(): void {
    this.writableFinished = true;
    this.emit('finish');
    this.emit('close');
  }
}

function setUp(env: Record<string, string> = {}) {
  const config = configStub(env);
  const events = new InMemoryJobEvents(config);
  const sut = new JobWaits(config, events);
  /** The jobs as the store has them: read by every request, changed by `change`. */
  const jobs = new Map<number, Job>();
  const add = (id: number): Job => {
    const job = start(newJob(id, 10_000, Date.now()), Date.now())!;
    jobs.set(id, job);
    return job;
  };
  /** Changes a job as the runner would: the store first, then the event. */
  const change = async (id: number, transition: JobTransition): Promise<Job> => {
    const next = transition(jobs.get(id)!, Date.now())!;
    jobs.set(id, next);
    await events.publish(clientStub, next);
    return next;
  };
  const readOf = (ids: number[] | undefined) => (): Promise<Listed> => {
    const wanted = ids ?? [...jobs.keys()];
    return Promise.resolve({
      jobs: wanted.filter((id) => jobs.has(id)).map((id) => jobs.get(id)!),
      missing: wanted.filter((id) => !jobs.has(id)),
    });
  };
  const request = (
    overrides: Partial<WaitRequest> = {},
  ): WaitRequest & {
    response: FakeConnection;
    socket: FakeConnection;
  } => {
    const ids = 'ids' in overrides ? overrides.ids : [1];
    return {
      clientId: clientStub,
      ids,
      revisions: undefined,
      seconds: 10,
      read: readOf(ids === undefined ? undefined : [...ids]),
      ...overrides,
      response: new FakeConnection(),
      socket: new FakeConnection(),
    };
  };
  const counts = () => ({ ...sut.counts, subscriptions: events.subscriptionCount() });
  const NOTHING = { held: 0, timers: 0, taken: 0, clients: 0, subscriptions: 0 };
  return { sut, events, jobs, add, change, request, counts, NOTHING };
}

/** A promise's value, or `pending` when it has not settled once the pending callbacks have run. */
async function peek<T>(promise: Promise<T>): Promise<T | 'pending'> {
  let result: { value: T } | undefined;
  void promise.then((value) => (result = { value }));
  await vi.advanceTimersByTimeAsync(0);
  return result ? result.value : 'pending';
}

const statusOf = (outcome: WaitOutcome) => outcome.listed.jobs.map((job) => job.status);

describe(JobWaits.name, () => {
  it('should answer at once, applying no wait, without Prefer: wait or with wait=0', async () => {
    const { sut, add, request, counts, NOTHING } = setUp();
    add(1);

    for (const seconds of [undefined, 0]) {
      const outcome = await sut.wait(request({ seconds }));
      expect(outcome).toMatchObject({ end: 'not-held', appliedS: undefined });
      expect(statusOf(outcome)).toEqual(['running']);
    }
    expect(counts()).toEqual(NOTHING);
  });

  it('should hold nothing when MAX_WAIT_S is 0', async () => {
    const { sut, add, request } = setUp({ MAX_WAIT_S: '0' });
    add(1);
    expect(await sut.wait(request({ seconds: 10 }))).toMatchObject({ end: 'not-held' });
  });

  it('should answer at once, with the wait applied, when the job is already finished', async () => {
    const { sut, add, change, request, counts, NOTHING } = setUp();
    add(1);
    await change(1, complete);
    const subscribe = vi.spyOn(InMemoryJobEvents.prototype, 'subscribe');

    const outcome = await sut.wait(request({ seconds: 10 }));

    expect(outcome).toMatchObject({ end: 'ready', appliedS: 10 });
    expect(statusOf(outcome)).toEqual(['completed']);
    expect(subscribe).not.toHaveBeenCalled();
    expect(counts()).toEqual(NOTHING);
    subscribe.mockRestore();
  });

  it('should hold a request until its job finishes, then free its subscription and timer', async () => {
    using clock = fakeClock();
    const { sut, add, change, request, counts, NOTHING } = setUp();
    add(1);

    const waiting = sut.wait(request({ seconds: 10 }));
    await clock.advance(3000);
    await change(1, progressTo(50));
    expect(await peek(waiting)).toBe('pending');
    expect(counts()).toEqual({ held: 1, timers: 1, taken: 1, clients: 1, subscriptions: 1 });

    await change(1, complete);
    const outcome = await waiting;

    expect(outcome).toMatchObject({ end: 'woken', appliedS: 10 });
    expect(outcome.listed.jobs[0]).toMatchObject({ status: 'completed', revision: 4 });
    expect(counts()).toEqual(NOTHING);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("should answer at once, read afresh, when the client's events are lost (review of 2026-12-01)", async () => {
    using clock = fakeClock();
    const { sut, events, jobs, add, request, counts, NOTHING } = setUp();
    // The memory driver never loses events: the lost callbacks are kept, to be called here.
    const lost: Array<() => void> = [];
    const driver: JobEvents = events;
    const subscribe = driver.subscribe.bind(driver);
    vi.spyOn(driver, 'subscribe').mockImplementation((clientId, listener, onLost) => {
      if (onLost) lost.push(onLost);
      return subscribe(clientId, listener, onLost);
    });
    add(1);
    const waiting = sut.wait(request({ seconds: 20 }));
    await clock.advance(1000);
    expect(await peek(waiting)).toBe('pending');

    // Redis came back without its data: the job is gone, and no event will say so.
    jobs.delete(1);
    for (const onLost of lost) onLost();
    const outcome = await waiting;

    expect(outcome).toMatchObject({ end: 'woken', listed: { jobs: [], missing: [1] } });
    expect(counts()).toEqual(NOTHING);
  });

  it('should answer the job as it is when the wait ends, clamped to MAX_WAIT_S', async () => {
    using clock = fakeClock();
    const { sut, add, change, request, counts, NOTHING } = setUp({ MAX_WAIT_S: '5' });
    add(1);

    const waiting = sut.wait(request({ seconds: Infinity }));
    await clock.advance(1000);
    await change(1, progressTo(30));
    await clock.advance(3998);
    expect(await peek(waiting)).toBe('pending');
    await clock.advance(2);
    const outcome = await waiting;

    expect(outcome).toMatchObject({ end: 'deadline', appliedS: 5 });
    expect(outcome.listed.jobs[0]).toMatchObject({ status: 'running', progress: 30 });
    expect(counts()).toEqual(NOTHING);
  });

  it('should wake on any change past the revision the client names', async () => {
    using _clock = fakeClock();
    const { sut, add, change, request } = setUp();
    const job = add(1);

    const waiting = sut.wait(request({ revisions: new Map([[1, job.revision]]) }));
    expect(await peek(waiting)).toBe('pending');
    await change(1, progressTo(10));
    const outcome = await waiting;

    expect(outcome).toMatchObject({ end: 'woken', appliedS: 10 });
    expect(outcome.listed.jobs[0]).toMatchObject({ progress: 10, revision: job.revision + 1 });
  });

  it('should answer at once when the job is not at the revision named, behind or ahead', async () => {
    const { sut, add, change, request } = setUp();
    const first = add(1);
    await change(1, progressTo(10));

    for (const revision of [0, first.revision, first.revision + 5]) {
      const outcome = await sut.wait(request({ revisions: new Map([[1, revision]]) }));
      expect(outcome, `revision ${revision}`).toMatchObject({ end: 'ready', appliedS: 10 });
    }
  });

  it('should answer at once when nothing listed can change: finished at the revision named, or missing', async () => {
    const { sut, add, change, request } = setUp();
    add(1);
    const done = await change(1, cancel);

    const finished = await sut.wait(request({ revisions: new Map([[1, done.revision]]) }));
    const missing = await sut.wait(request({ ids: [7] }));

    expect(finished).toMatchObject({ end: 'ready' });
    expect(missing).toMatchObject({ end: 'ready', listed: { jobs: [], missing: [7] } });
  });

  it('should wake a batch when any listed job finishes, and ignore the others', async () => {
    using _clock = fakeClock();
    const { sut, add, change, request } = setUp();
    add(1);
    add(2);
    add(3);

    const waiting = sut.wait(request({ ids: [2, 1, 9] }));
    await change(3, complete);
    await change(1, progressTo(40));
    expect(await peek(waiting)).toBe('pending');
    await change(2, complete);
    const outcome = await waiting;

    expect(outcome.end).toBe('woken');
    expect(outcome.listed).toEqual({
      jobs: [
        expect.objectContaining({ id: 2, status: 'completed' }),
        expect.objectContaining({ id: 1, progress: 40 }),
      ],
      missing: [9],
    });
  });

  it('should ignore the events of other clients', async () => {
    using _clock = fakeClock();
    const { sut, add, events, request } = setUp();
    const job = add(1);

    const waiting = sut.wait(request());
    // Another client's job 1 (ids are per client) finishes.
    await events.publish(otherClientStub, complete(job, Date.now())!);
    expect(await peek(waiting)).toBe('pending');
  });

  it('should list, without ids, the jobs the client created while it waited', async () => {
    using _clock = fakeClock();
    const { sut, add, change, events, request } = setUp();
    add(1);

    const waiting = sut.wait(request({ ids: undefined }));
    expect(await peek(waiting)).toBe('pending');
    const created = newJob(2, 0, Date.now());
    await events.publish(clientStub, created);
    expect(await peek(waiting)).toBe('pending');
    await events.publish(clientStub, start(created, Date.now())!);
    await change(1, complete);
    const outcome = await waiting;

    expect(outcome.listed.jobs.map((job) => [job.id, job.status])).toEqual([
      [1, 'completed'],
      [2, 'running'],
    ]);
  });

  it('should not lose a change made while it subscribes and reads', async () => {
    using _clock = fakeClock();
    const { sut, add, change, jobs, request } = setUp();
    add(1);
    const stale = jobs.get(1)!;
    let reads = 0;
    // The job finishes during the second read (after the subscription), which still sees it running.
    const read = async (): Promise<Listed> => {
      reads += 1;
      if (reads === 2) await change(1, complete);
      return { jobs: [stale], missing: [] };
    };

    const outcome = await sut.wait(request({ read }));

    expect(reads).toBe(2);
    expect(outcome).toMatchObject({ end: 'woken' });
    expect(statusOf(outcome)).toEqual(['completed']);
  });

  it('should never step back to an older copy than it has', async () => {
    using _clock = fakeClock();
    const { sut, add, change, events, jobs, request } = setUp();
    const first = add(1);
    await change(1, progressTo(20));
    const read = () => Promise.resolve({ jobs: [jobs.get(1)!], missing: [] });

    const waiting = sut.wait(request({ read, revisions: new Map([[1, first.revision + 1]]) }));
    await events.publish(clientStub, first);
    expect(await peek(waiting)).toBe('pending');
  });

  it('should free the wait at once when the client disconnects', async () => {
    using clock = fakeClock();
    const { sut, add, request, counts, NOTHING } = setUp();
    add(1);
    const held = request();

    const waiting = sut.wait(held);
    await clock.advance(100);
    expect(counts().held).toBe(1);
    held.response.close();
    const outcome = await waiting;

    expect(outcome.end).toBe('closed');
    expect(counts()).toEqual(NOTHING);
    expect(vi.getTimerCount()).toBe(0);
    expect(held.response.listenerCount('close')).toBe(0);
    expect(held.socket.listenerCount('close')).toBe(0);
  });

  it('should free the wait when its connection closes, or had closed before it was held', async () => {
    using _clock = fakeClock();
    const { sut, add, request, counts, NOTHING } = setUp();
    add(1);
    const onSocket = request();
    const early = request();
    early.socket.close();

    const waiting = sut.wait(onSocket);
    expect(await peek(waiting)).toBe('pending');
    onSocket.socket.close();

    expect(await waiting).toMatchObject({ end: 'closed' });
    expect(await sut.wait(early)).toMatchObject({ end: 'closed' });
    expect(counts()).toEqual(NOTHING);
  });

  it('should hold at most MAX_WAITS_PER_CLIENT per client, answering the next at once', async () => {
    using _clock = fakeClock();
    const { sut, add, change, request, counts } = setUp({ MAX_WAITS_PER_CLIENT: '2' });
    add(1);

    const held = [sut.wait(request()), sut.wait(request())];
    const over = await sut.wait(request());
    const other = sut.wait(
      request({
        clientId: otherClientStub,
        read: () => Promise.resolve({ jobs: [newJob(1, 10, Date.now())], missing: [] }),
      }),
    );

    expect(over).toMatchObject({ end: 'not-held', appliedS: undefined });
    expect(await peek(other)).toBe('pending');
    expect(counts()).toMatchObject({ held: 3, clients: 2 });
    await change(1, complete);
    expect((await Promise.all(held)).map((outcome) => outcome.end)).toEqual(['woken', 'woken']);
    expect(await sut.wait(request())).toMatchObject({ end: 'ready' });
  });

  it('should hold at most MAX_WAITS across clients', async () => {
    using _clock = fakeClock();
    const { sut, add, request } = setUp({ MAX_WAITS: '1' });
    add(1);

    const held = sut.wait(request());
    const over = await sut.wait(request({ clientId: otherClientStub }));

    expect(await peek(held)).toBe('pending');
    expect(over.end).toBe('not-held');
  });

  it('should answer every held request when the server stops, and hold none after', async () => {
    using clock = fakeClock();
    const { sut, add, change, request, counts, NOTHING } = setUp();
    add(1);
    const first = request();
    const second = request({ revisions: new Map([[1, 2]]) });
    const waits = [sut.wait(first), sut.wait(second)];
    await clock.advance(10);
    await change(1, progressTo(5));

    sut.onModuleDestroy();
    const stopping = sut.beforeApplicationShutdown();
    const outcomes = await Promise.all(waits);
    expect(await peek(stopping)).toBe('pending');
    first.response.finish();
    second.response.finish();
    await stopping;

    expect(outcomes.map(({ end, appliedS }) => ({ end, appliedS }))).toEqual([
      { end: 'shutdown', appliedS: undefined },
      { end: 'woken', appliedS: 10 },
    ]);
    expect(outcomes[0]?.listed.jobs[0]).toMatchObject({ progress: 5 });
    expect(counts()).toEqual(NOTHING);
    expect(await sut.wait(request())).toMatchObject({ end: 'not-held' });
  });

  it('should not wait longer than its bound for answers that are never written at shutdown', async () => {
    using clock = fakeClock();
    const { sut, add, request } = setUp();
    add(1);
    const waiting = sut.wait(request());
    await clock.advance(10);

    sut.onModuleDestroy();
    const stopping = sut.beforeApplicationShutdown();
    await waiting;
    await clock.advance(999);
    expect(await peek(stopping)).toBe('pending');
    await clock.advance(1);
    await stopping;
    expect(vi.getTimerCount()).toBe(0);
  });
});
