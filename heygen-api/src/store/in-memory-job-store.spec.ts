import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { clientStub, configStub, otherClientStub } from '../../test/unit/stubs.js';
import { fakeClock } from 'heygen-test-support';
import { cancel, complete, start, withEventId, type Job } from '../domain/job.js';
import { InMemoryJobStore } from './in-memory-job-store.js';
import { describeJobStoreContract } from './job-store.contract.js';
import { type JobLimits } from './job-store.js';

const limitsStub = (overrides: Partial<JobLimits> = {}): JobLimits => ({
  activePerClient: 100,
  keptPerClient: 100,
  active: 1000,
  ...overrides,
});

const draftStub = (overrides: { limits?: Partial<JobLimits> } & Record<string, unknown> = {}) => ({
  clientId: clientStub,
  duration: 1000,
  fail: false,
  now: Date.now(),
  ...overrides,
  limits: limitsStub(overrides.limits),
});

describeJobStoreContract('in memory', (env = {}) => {
  const store = new InMemoryJobStore(configStub(env));
  onTestFinished(() => store.onModuleDestroy());
  // One process: another "instance" is the same store.
  return Promise.resolve({ sut: store, peer: store });
});

// What only memory has to show: its leak counters.
describe(InMemoryJobStore.name, () => {
  it('should never give an id twice, even to a client it had forgotten', async () => {
    using clock = fakeClock();
    const sut = new InMemoryJobStore(configStub({ RETENTION_MS: '0' }));
    const ids: number[] = [];
    for (let i = 0; i < 5; i++) {
      const { record } = await sut.create(draftStub());
      ids.push(record!.job.id);
      await sut.update(clientStub, record!.job.id, (job) => cancel(job, Date.now()));
      await clock.advance(0);
    }
    expect(new Set(ids).size).toBe(5);
    expect(ids).toEqual([...ids].sort((x, y) => x - y));
    await clock.advance(10);
    expect(sut.clientCount).toBe(0);
  });

  it("should keep the event id recorded for a job's current state, and ignore an older one", async () => {
    const sut = new InMemoryJobStore(configStub());
    const { record } = await sut.create(draftStub());
    const id = record!.job.id;
    const told = (job: Job, eventId: number) => ({
      id: String(eventId),
      clientId: clientStub,
      job: withEventId(job, String(eventId)),
    });

    await sut.recordEvent(told(record!.job, id + 1));
    expect((await sut.get(clientStub, id))?.job.eventId).toBe(String(id + 1));
    const running = await sut.update(clientStub, id, (job) => start(job, Date.now()));
    await sut.recordEvent(told(record!.job, id + 1));
    expect((await sut.get(clientStub, id))?.job).toEqual(running!.job);
    await sut.recordEvent(told(running!.job, id + 2));
    const done = await sut.update(clientStub, id, (job) => complete(job, Date.now()));
    await sut.recordEvent(told(done!.job, id + 3));
    expect((await sut.listByClient(clientStub))[0]?.job).toEqual(
      withEventId(done!.job, String(id + 3)),
    );
    // A job it does not keep: nothing to record.
    await sut.recordEvent(told({ ...done!.job, id: id + 99 }, id + 4));
    expect(await sut.get(clientStub, id + 99)).toBeUndefined();
  });

  it('should refuse a job past the limit of unfinished jobs of all clients together', async () => {
    const sut = new InMemoryJobStore(configStub());
    const limits = { active: 2 };
    const { record } = await sut.create(draftStub({ limits }));
    await sut.create(draftStub({ clientId: otherClientStub, limits }));
    expect(await sut.create(draftStub({ limits }))).toEqual({ outcome: 'limit', limit: 'server' });
    expect(sut.activeCount).toBe(2);
    await sut.update(clientStub, record!.job.id, (job) => cancel(job, Date.now()));
    expect((await sut.create(draftStub({ limits }))).outcome).toBe('created');
  });

  it('should forget a finished job and its idempotency key after the retention period', async () => {
    using clock = fakeClock();
    const sut = new InMemoryJobStore(configStub({ RETENTION_MS: '5000' }));
    const idempotency = { key: 'k', fingerprint: 'f' };
    const { record } = await sut.create(draftStub({ idempotency }));
    const id = record!.job.id;
    await sut.update(clientStub, id, (job) => start(job, Date.now()));
    await sut.update(clientStub, id, (job) => complete(job, Date.now()));
    await clock.advance(4999);
    expect(await sut.get(clientStub, id)).toBeDefined();
    await clock.advance(1);
    expect(await sut.get(clientStub, id)).toBeUndefined();
    expect(await sut.listByClient(clientStub)).toEqual([]);
    expect(sut.clientCount).toBe(0);
    expect((await sut.create(draftStub({ idempotency }))).outcome).toBe('created');
  });

  it('should forget the oldest finished job of any client to stay within MAX_RETAINED_JOBS', async () => {
    const sut = new InMemoryJobStore(
      configStub({ MAX_ACTIVE_JOBS: '2', MAX_RETAINED_JOBS: '3', RETENTION_MS: '60000' }),
    );
    onTestFinished(() => sut.onModuleDestroy());
    const limits = { active: 2 };
    const finish = async (clientId: string) => {
      const { record } = await sut.create(draftStub({ clientId, limits }));
      await sut.update(clientId, record!.job.id, (job) => cancel(job, Date.now()));
      return record!.job.id;
    };
    const oldest = await finish(otherClientStub);
    const second = await finish(clientStub);
    const running = (
      await sut.create(draftStub({ limits, idempotency: { key: 'k', fingerprint: 'f' } }))
    ).record!.job.id;
    expect(sut.retained).toBe(3);

    await sut.create(draftStub({ limits }));
    expect(sut.retained).toBe(3);
    expect(await sut.get(otherClientStub, oldest)).toBeUndefined();
    expect(await sut.get(clientStub, second)).toBeDefined();
    // Unfinished jobs are never evicted, whatever their age: only finished ones make room.
    await sut.create(draftStub({ limits: { active: 3 } }));
    expect(await sut.get(clientStub, second)).toBeUndefined();
    expect((await sut.get(clientStub, running))?.job.status).toBe('pending');
    expect(sut.retained).toBe(3);
  });

  it('should forget each finished job at its own time with one timer for all', async () => {
    using clock = fakeClock();
    const sut = new InMemoryJobStore(configStub({ RETENTION_MS: '1000' }));
    onTestFinished(() => sut.onModuleDestroy());
    const ids: number[] = [];
    for (let i = 0; i < 3; i++) {
      const { record } = await sut.create(draftStub({ now: Date.now() }));
      ids.push(record!.job.id);
      await sut.update(clientStub, record!.job.id, (job) => cancel(job, Date.now()));
      await clock.advance(300);
    }
    // Finished at 0, 300 and 600 ms; now 900.
    expect(vi.getTimerCount()).toBe(1);
    await clock.advance(99);
    expect((await sut.listByClient(clientStub)).map(({ job }) => job.id)).toEqual(ids);
    await clock.advance(1);
    expect((await sut.listByClient(clientStub)).map(({ job }) => job.id)).toEqual(ids.slice(1));
    await clock.advance(599);
    expect((await sut.listByClient(clientStub)).map(({ job }) => job.id)).toEqual(ids.slice(2));
    await clock.advance(1);
    expect(await sut.listByClient(clientStub)).toEqual([]);
  });
});
