import { describe, expect, it } from 'vitest';
import { clientStub, otherClientStub } from '../../test/unit/stubs.js';
import { cancel, complete, progressTo, start } from '../domain/job.js';
import { type JobDraft, type JobLimits, type JobStore } from './job-store.js';

/** A store to test, and a second handle on the same jobs (another instance, for Redis). */
export interface JobStoreFixture {
  sut: JobStore;
  peer: JobStore;
}

/** Makes a fresh, empty store configured from `env`; the factory registers its own teardown. */
export type JobStoreFactory = (env?: Record<string, string>) => Promise<JobStoreFixture>;

const limitsStub = (overrides: Partial<JobLimits> = {}): JobLimits => ({
  activePerClient: 100,
  keptPerClient: 100,
  active: 1000,
  ...overrides,
});

const draftStub = (
  overrides: Partial<Omit<JobDraft, 'limits'>> & { limits?: Partial<JobLimits> } = {},
): JobDraft => ({
  clientId: clientStub,
  duration: 1000,
  fail: false,
  now: Date.now(),
  ...overrides,
  limits: limitsStub(overrides.limits),
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * What every JobStore must do (STYLE.md 9), run against each driver in real time: ids, ownership,
 * idempotency, limits, retention, atomic updates.
 */
export function describeJobStoreContract(name: string, factory: JobStoreFactory): void {
  describe(`JobStore contract: ${name}`, () => {
    it('should give each client increasing ids of its own and index jobs by client', async () => {
      const { sut } = await factory();
      const a = await sut.create(draftStub());
      const b = await sut.create(draftStub({ clientId: otherClientStub }));
      const c = await sut.create(draftStub());
      const [idA, idB, idC] = [a.record!.job.id, b.record!.job.id, c.record!.job.id];
      expect(a.outcome).toBe('created');
      expect(idC).toBeGreaterThan(idA);
      // Ids start near the clock in ms, so they say nothing about other clients.
      expect(Math.abs(idA - Date.now())).toBeLessThan(60_000);
      expect((await sut.listByClient(clientStub)).map((r) => r.job.id)).toEqual([idA, idC]);
      expect(await sut.get(otherClientStub, idB)).toMatchObject({
        clientId: otherClientStub,
        job: { id: idB, status: 'pending', revision: 1 },
      });
      // The other client has idB only (its ids may equal this client's: they are per client).
      expect(await sut.get(otherClientStub, idB + 1)).toBeUndefined();
    });

    it("should answer a page of a client's jobs, oldest first, and whether more follow", async () => {
      const { sut, peer } = await factory();
      const ids: number[] = [];
      for (let i = 0; i < 5; i++) {
        ids.push((await sut.create(draftStub())).record!.job.id);
        await sut.create(draftStub({ clientId: otherClientStub }));
      }
      const page = async (limit: number | undefined, startingAfter: number | undefined) => {
        const { records, more } = await peer.listPage(clientStub, { limit, startingAfter });
        return [records.map((record) => record.job.id), more];
      };
      expect(await page(2, undefined)).toEqual([ids.slice(0, 2), true]);
      expect(await page(2, ids[1])).toEqual([ids.slice(2, 4), true]);
      expect(await page(2, ids[3])).toEqual([ids.slice(4), false]);
      expect(await page(2, ids[4])).toEqual([[], false]);
      // No limit: the rest; an id between two, or one the client never had: from the next one on.
      expect(await page(undefined, ids[2]! + 0.5)).toEqual([ids.slice(3), false]);
      expect(await page(undefined, undefined)).toEqual([ids, false]);
      expect(await page(10, 1)).toEqual([ids, false]);
      const { records } = await sut.listPage(clientStub, { limit: 1, startingAfter: ids[3] });
      expect(records).toEqual([await sut.get(clientStub, ids[4]!)]);
    });

    it('should never give an id twice, even to a client it had forgotten, or from another instance', async () => {
      const { sut, peer } = await factory({ RETENTION_MS: '0' });
      const ids: number[] = [];
      for (let i = 0; i < 6; i++) {
        const { record } = await (i % 2 ? peer : sut).create(draftStub());
        ids.push(record!.job.id);
        await sut.update(clientStub, record!.job.id, (job) => cancel(job, Date.now()));
        await sleep(2);
      }
      expect(new Set(ids).size).toBe(6);
      expect(ids).toEqual([...ids].sort((x, y) => x - y));
    });

    it('should return the existing job for a reused idempotency key of the same client only', async () => {
      const { sut, peer } = await factory();
      const idempotency = { key: 'k', fingerprint: 'f' };
      const first = await sut.create(draftStub({ idempotency }));
      const again = await peer.create(draftStub({ idempotency }));
      const other = await sut.create(draftStub({ clientId: otherClientStub, idempotency }));
      expect(again).toEqual({ outcome: 'existing', record: first.record });
      expect(other.outcome).toBe('created');
      expect(other.record?.clientId).toBe(otherClientStub);
    });

    it('should create one job for one idempotency key sent to every instance at once', async () => {
      const { sut, peer } = await factory();
      const idempotency = { key: 'race', fingerprint: 'f' };
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          (i % 2 ? peer : sut).create(draftStub({ idempotency })),
        ),
      );
      expect(results.filter((result) => result.outcome === 'created')).toHaveLength(1);
      expect(new Set(results.map((result) => result.record?.job.id)).size).toBe(1);
    });

    it('should apply an update atomically and report a declined one as undefined', async () => {
      const { sut, peer } = await factory();
      const { record } = await sut.create(draftStub());
      const id = record!.job.id;
      expect(
        (await peer.update(clientStub, id, (job) => start(job, Date.now())))?.job,
      ).toMatchObject({
        status: 'running',
        revision: 2,
      });
      expect(await sut.update(clientStub, id, () => undefined)).toBeUndefined();
      expect(await sut.update(clientStub, 404, (job) => start(job, Date.now()))).toBeUndefined();
      expect(
        await sut.update(otherClientStub, id, (job) => cancel(job, Date.now())),
      ).toBeUndefined();
      expect((await sut.get(clientStub, id))?.job.status).toBe('running');
    });

    it('should serialise concurrent changes of one job from every instance: none lost', async () => {
      const { sut, peer } = await factory();
      const { record } = await sut.create(draftStub());
      const id = record!.job.id;
      await sut.update(clientStub, id, (job) => start(job, Date.now()));
      // Each bumps the progress by one from whatever it reads: a lost update would show.
      await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          (i % 2 ? peer : sut).update(clientStub, id, (job) =>
            progressTo(job.progress + 1)(job, Date.now()),
          ),
        ),
      );
      expect((await sut.get(clientStub, id))?.job).toMatchObject({ progress: 20, revision: 22 });
    });

    it("should refuse a job past the client's limit of unfinished jobs, counted across instances", async () => {
      const { sut, peer } = await factory();
      const limits = { activePerClient: 2 };
      const { record } = await sut.create(draftStub({ limits }));
      await peer.create(draftStub({ limits }));
      expect(await sut.create(draftStub({ limits }))).toEqual({
        outcome: 'limit',
        limit: 'client',
      });
      expect(await peer.create(draftStub({ limits }))).toEqual({
        outcome: 'limit',
        limit: 'client',
      });
      expect((await sut.create(draftStub({ clientId: otherClientStub, limits }))).outcome).toBe(
        'created',
      );
      await peer.update(clientStub, record!.job.id, (job) => cancel(job, Date.now()));
      expect((await sut.create(draftStub({ limits }))).outcome).toBe('created');
    });

    it('should refuse a job past the limit of unfinished jobs of all clients together', async () => {
      const { sut, peer } = await factory();
      const limits = { active: 2 };
      const { record } = await sut.create(draftStub({ limits }));
      await peer.create(draftStub({ clientId: otherClientStub, limits }));
      expect(await sut.create(draftStub({ limits }))).toEqual({
        outcome: 'limit',
        limit: 'server',
      });
      await sut.update(clientStub, record!.job.id, (job) => cancel(job, Date.now()));
      expect((await peer.create(draftStub({ limits }))).outcome).toBe('created');
    });

    it('should refuse a job past the unfinished jobs of its address, counted across clients and instances', async () => {
      const { sut, peer } = await factory();
      const limits = { activePerAddress: 2 };
      const first = await sut.create(draftStub({ address: 'a', limits }));
      const second = await peer.create(
        draftStub({ clientId: otherClientStub, address: 'a', limits }),
      );
      expect(first.record?.address).toBe('a');
      expect(
        await sut.create(draftStub({ clientId: otherClientStub, address: 'a', limits })),
      ).toEqual({ outcome: 'limit', limit: 'address' });
      // Another address counts on its own; without the limit, no address is counted or kept.
      expect((await peer.create(draftStub({ address: 'b', limits }))).outcome).toBe('created');
      const uncounted = await sut.create(draftStub({ address: 'a' }));
      expect(uncounted.outcome).toBe('created');
      expect(uncounted.record?.address).toBeUndefined();

      // A job that finishes, on whichever instance, frees its place.
      await peer.update(clientStub, first.record!.job.id, (job) => cancel(job, Date.now()));
      expect((await sut.get(clientStub, first.record!.job.id))?.job.status).toBe('cancelled');
      const again = await sut.create(
        draftStub({ clientId: otherClientStub, address: 'a', limits }),
      );
      expect(again.outcome).toBe('created');
      await sut.update(otherClientStub, second.record!.job.id, (job) => cancel(job, Date.now()));
      await sut.update(otherClientStub, again.record!.job.id, (job) => cancel(job, Date.now()));
      const results = await Promise.all(
        [sut, peer, sut].map((store) => store.create(draftStub({ address: 'a', limits }))),
      );
      expect(results.map((result) => result.outcome).sort()).toEqual([
        'created',
        'created',
        'limit',
      ]);
    });

    it('should hold the limits when creations race on every instance', async () => {
      const { sut, peer } = await factory();
      const limits = { activePerClient: 5 };
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => (i % 2 ? peer : sut).create(draftStub({ limits }))),
      );
      expect(results.filter((result) => result.outcome === 'created')).toHaveLength(5);
    });

    it('should evict the oldest finished job to keep a client within its kept-jobs limit', async () => {
      const { sut } = await factory();
      const limits = { keptPerClient: 2, activePerClient: 2 };
      const a = (await sut.create(draftStub({ limits }))).record!.job.id;
      const b = (await sut.create(draftStub({ limits }))).record!.job.id;
      await sut.update(clientStub, b, (job) => cancel(job, Date.now()));
      await sleep(2);
      await sut.update(clientStub, a, (job) => cancel(job, Date.now()));
      const made = await sut.create(draftStub({ limits }));
      expect(made).toMatchObject({ evicted: { perClient: 1, retained: 0 } });
      const c = made.record!.job.id;
      expect((await sut.listByClient(clientStub)).map((r) => r.job.id)).toEqual([a, c]);
      expect(await sut.get(clientStub, b)).toBeUndefined();
    });

    it('should forget the oldest finished job of any client, and its key, to stay within MAX_RETAINED_JOBS', async () => {
      const { sut, peer } = await factory({
        MAX_ACTIVE_JOBS: '2',
        MAX_RETAINED_JOBS: '3',
        RETENTION_MS: '60000',
      });
      const limits = { active: 2 };
      const idempotency = { key: 'k', fingerprint: 'f' };
      const finish = async (store: JobStore, clientId: string, draft: Partial<JobDraft> = {}) => {
        const { record } = await store.create(draftStub({ clientId, limits, ...draft }));
        await store.update(clientId, record!.job.id, (job) => cancel(job, Date.now()));
        await sleep(2);
        return record!.job.id;
      };
      const oldest = await finish(sut, otherClientStub, { idempotency });
      const second = await finish(peer, clientStub);
      const running = (await sut.create(draftStub({ limits }))).record!.job.id;

      // Three kept: the next creation, on either instance, forgets the oldest finished job.
      const made = await peer.create(draftStub({ limits }));
      expect(made).toMatchObject({ evicted: { perClient: 0, retained: 1 } });
      expect(await sut.get(otherClientStub, oldest)).toBeUndefined();
      expect(await sut.get(clientStub, second)).toBeDefined();
      // Its idempotency key went with it: reused, it makes a new job.
      const reused = await sut.create(draftStub({ clientId: otherClientStub, idempotency }));
      expect(reused.outcome).toBe('created');
      expect(reused.record!.job.id).toBeGreaterThan(oldest);
      // That creation made room too; unfinished jobs are never evicted, however old.
      expect(await sut.get(clientStub, second)).toBeUndefined();
      expect((await peer.get(clientStub, running))?.job.status).toBe('pending');
      expect(await sut.create(draftStub({ limits: { active: 4 } }))).toMatchObject({
        outcome: 'created',
      });
      expect(await peer.get(clientStub, running)).toBeDefined();
    });

    it('should give a reused idempotency key its job back even at the limit', async () => {
      const { sut } = await factory();
      const idempotency = { key: 'k', fingerprint: 'f' };
      const limits = { activePerClient: 1 };
      const first = await sut.create(draftStub({ idempotency, limits }));
      expect(await sut.create(draftStub({ idempotency, limits }))).toEqual({
        outcome: 'existing',
        record: first.record,
      });
    });

    it('should forget a finished job and its idempotency key after the retention period', async () => {
      const { sut } = await factory({ RETENTION_MS: '150' });
      const idempotency = { key: 'k', fingerprint: 'f' };
      const { record } = await sut.create(draftStub({ idempotency }));
      const id = record!.job.id;
      await sut.update(clientStub, id, (job) => start(job, Date.now()));
      await sut.update(clientStub, id, (job) => complete(job, Date.now()));
      await sleep(50);
      expect(await sut.get(clientStub, id)).toBeDefined();
      await sleep(150);
      expect(await sut.get(clientStub, id)).toBeUndefined();
      expect(await sut.listByClient(clientStub)).toEqual([]);
      const again = await sut.create(draftStub({ idempotency }));
      expect(again.outcome).toBe('created');
      expect(again.record!.job.id).toBeGreaterThan(id);
    });

    it('should keep unfinished jobs however long they run', async () => {
      const { sut } = await factory({ RETENTION_MS: '10' });
      const { record } = await sut.create(draftStub());
      await sleep(100);
      expect(await sut.get(clientStub, record!.job.id)).toBeDefined();
    });
  });
}
