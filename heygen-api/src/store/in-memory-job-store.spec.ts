import { describe, expect, it } from 'vitest';
import { clientStub, configStub, otherClientStub } from '../../test/unit/stubs.js';
import { fakeClock } from 'heygen-test-support';
import { cancel, complete, start } from '../domain/job.js';
import { InMemoryJobStore } from './in-memory-job-store.js';
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

describe(InMemoryJobStore.name, () => {
  it('should give each client increasing ids of its own and index jobs by client', async () => {
    using _clock = fakeClock();
    const sut = new InMemoryJobStore(configStub());
    const a = await sut.create(draftStub());
    const b = await sut.create(draftStub({ clientId: otherClientStub }));
    const c = await sut.create(draftStub());
    const [idA, idB, idC] = [a.record!.job.id, b.record!.job.id, c.record!.job.id];
    expect(idC).toBe(idA + 1);
    // Ids are per client: the other client's first job is numbered like this client's.
    expect(idB).toBe(idA);
    expect(a.outcome).toBe('created');
    expect((await sut.listByClient(clientStub)).map((r) => r.job.id)).toEqual([idA, idC]);
    expect((await sut.get(otherClientStub, idB))?.clientId).toBe(otherClientStub);
    expect(await sut.get(otherClientStub, idC)).toBeUndefined();
  });

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

  it('should return the existing job for a reused idempotency key of the same client only', async () => {
    const sut = new InMemoryJobStore(configStub());
    const idempotency = { key: 'k', fingerprint: 'f' };
    const first = await sut.create(draftStub({ idempotency }));
    const again = await sut.create(draftStub({ idempotency }));
    const other = await sut.create(draftStub({ clientId: otherClientStub, idempotency }));
    expect(again).toEqual({ outcome: 'existing', record: first.record });
    expect(other.outcome).toBe('created');
    expect(other.record?.clientId).toBe(otherClientStub);
  });

  it('should apply an update atomically and report a declined one as undefined', async () => {
    const sut = new InMemoryJobStore(configStub());
    const { record } = await sut.create(draftStub());
    if (!record) throw new Error('not created');
    const id = record.job.id;
    expect((await sut.update(clientStub, id, (job) => start(job, Date.now())))?.job.status).toBe(
      'running',
    );
    expect(await sut.update(clientStub, id, () => undefined)).toBeUndefined();
    expect(await sut.update(clientStub, 404, (job) => start(job, Date.now()))).toBeUndefined();
    expect(await sut.update(otherClientStub, id, (job) => cancel(job, Date.now()))).toBeUndefined();
    expect((await sut.get(clientStub, id))?.job.status).toBe('running');
  });

  it("should refuse a job past the client's limit of unfinished jobs, counting only unfinished ones", async () => {
    const sut = new InMemoryJobStore(configStub());
    const limits = { activePerClient: 2 };
    const { record } = await sut.create(draftStub({ limits }));
    await sut.create(draftStub({ limits }));
    expect(await sut.create(draftStub({ limits }))).toEqual({ outcome: 'limit', limit: 'client' });
    expect((await sut.create(draftStub({ clientId: otherClientStub, limits }))).outcome).toBe(
      'created',
    );
    await sut.update(clientStub, record!.job.id, (job) => cancel(job, Date.now()));
    expect((await sut.create(draftStub({ limits }))).outcome).toBe('created');
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

  it('should evict the oldest finished job to keep a client within its kept-jobs limit', async () => {
    const sut = new InMemoryJobStore(configStub());
    const limits = { keptPerClient: 2, activePerClient: 2 };
    const a = (await sut.create(draftStub({ limits }))).record!.job.id;
    const b = (await sut.create(draftStub({ limits }))).record!.job.id;
    await sut.update(clientStub, b, (job) => cancel(job, Date.now()));
    await sut.update(clientStub, a, (job) => cancel(job, Date.now()));
    const c = (await sut.create(draftStub({ limits }))).record!.job.id;
    expect((await sut.listByClient(clientStub)).map((r) => r.job.id)).toEqual([a, c]);
    expect(await sut.get(clientStub, b)).toBeUndefined();
  });

  it('should give a reused idempotency key its job back even at the limit', async () => {
    const sut = new InMemoryJobStore(configStub());
    const idempotency = { key: 'k', fingerprint: 'f' };
    const limits = { activePerClient: 1 };
    const first = await sut.create(draftStub({ idempotency, limits }));
    expect(await sut.create(draftStub({ idempotency, limits }))).toEqual({
      outcome: 'existing',
      record: first.record,
    });
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

  it('should keep unfinished jobs however long they run', async () => {
    using clock = fakeClock();
    const sut = new InMemoryJobStore(configStub({ RETENTION_MS: '10' }));
    const { record } = await sut.create(draftStub());
    await clock.advance(60_000);
    expect(await sut.get(clientStub, record!.job.id)).toBeDefined();
  });
});
