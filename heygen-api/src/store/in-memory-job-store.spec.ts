import { describe, expect, it } from 'vitest';
import { clientStub, configStub, otherClientStub } from '../../test/unit/stubs.js';
import { fakeClock } from 'heygen-test-support';
import { cancel, complete, start } from '../domain/job.js';
import { InMemoryJobStore } from './in-memory-job-store.js';

const draftStub = (overrides = {}) => ({
  clientId: clientStub,
  duration: 1000,
  fail: false,
  now: Date.now(),
  maxActive: 100,
  ...overrides,
});

describe(InMemoryJobStore.name, () => {
  it('should assign increasing ids and index jobs by client', async () => {
    const sut = new InMemoryJobStore(configStub());
    const a = await sut.create(draftStub());
    const b = await sut.create(draftStub({ clientId: otherClientStub }));
    const c = await sut.create(draftStub());
    expect([a.record?.job.id, b.record?.job.id, c.record?.job.id]).toEqual([1, 2, 3]);
    expect(a.outcome).toBe('created');
    expect((await sut.listByClient(clientStub)).map((r) => r.job.id)).toEqual([1, 3]);
    expect((await sut.get(2))?.clientId).toBe(otherClientStub);
    expect(await sut.get(99)).toBeUndefined();
  });

  it('should return the existing job for a reused idempotency key of the same client only', async () => {
    const sut = new InMemoryJobStore(configStub());
    const idempotency = { key: 'k', fingerprint: 'f' };
    const first = await sut.create(draftStub({ idempotency }));
    const again = await sut.create(draftStub({ idempotency }));
    const other = await sut.create(draftStub({ clientId: otherClientStub, idempotency }));
    expect(again).toEqual({ outcome: 'existing', record: first.record });
    expect(other.outcome).toBe('created');
    expect(other.record?.job.id).not.toBe(first.record?.job.id);
  });

  it('should apply an update atomically and report a declined one as undefined', async () => {
    const sut = new InMemoryJobStore(configStub());
    const { record } = await sut.create(draftStub());
    if (!record) throw new Error('not created');
    expect((await sut.update(record.job.id, (job) => start(job, Date.now())))?.job.status).toBe(
      'running',
    );
    expect(await sut.update(record.job.id, () => undefined)).toBeUndefined();
    expect(await sut.update(404, (job) => start(job, Date.now()))).toBeUndefined();
    expect((await sut.get(record.job.id))?.job.status).toBe('running');
  });

  it("should refuse a job past the client's limit of unfinished jobs, counting only unfinished ones", async () => {
    const sut = new InMemoryJobStore(configStub());
    const { record } = await sut.create(draftStub({ maxActive: 2 }));
    await sut.create(draftStub({ maxActive: 2 }));
    expect(await sut.create(draftStub({ maxActive: 2 }))).toEqual({ outcome: 'limit' });
    expect((await sut.create(draftStub({ clientId: otherClientStub, maxActive: 2 }))).outcome).toBe(
      'created',
    );
    await sut.update(record!.job.id, (job) => cancel(job, Date.now()));
    expect((await sut.create(draftStub({ maxActive: 2 }))).outcome).toBe('created');
  });

  it('should give a reused idempotency key its job back even at the limit', async () => {
    const sut = new InMemoryJobStore(configStub());
    const idempotency = { key: 'k', fingerprint: 'f' };
    const first = await sut.create(draftStub({ idempotency, maxActive: 1 }));
    expect(await sut.create(draftStub({ idempotency, maxActive: 1 }))).toEqual({
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
    await sut.update(id, (job) => start(job, Date.now()));
    await sut.update(id, (job) => complete(job, Date.now()));

    await clock.advance(4999);
    expect(await sut.get(id)).toBeDefined();
    await clock.advance(1);
    expect(await sut.get(id)).toBeUndefined();
    expect(await sut.listByClient(clientStub)).toEqual([]);
    expect((await sut.create(draftStub({ idempotency }))).outcome).toBe('created');
  });

  it('should keep unfinished jobs however long they run', async () => {
    using clock = fakeClock();
    const sut = new InMemoryJobStore(configStub({ RETENTION_MS: '10' }));
    const { record } = await sut.create(draftStub());
    await clock.advance(60_000);
    expect(await sut.get(record!.job.id)).toBeDefined();
  });
});
