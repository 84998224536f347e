import { describe, expect, it, vi } from 'vitest';
import { clientStub, otherClientStub } from '../../test/unit/stubs.js';
import { newJob } from '../domain/job.js';
import { type JobEvent, type JobEvents } from './job-events.js';

/** The events to test, and a second handle on the same log (another instance, for Redis). */
export interface JobEventsFixture {
  sut: JobEvents;
  peer: JobEvents;
}

/** Makes fresh, empty events configured from `env`; the factory registers its own teardown. */
export type JobEventsFactory = (env?: Record<string, string>) => Promise<JobEventsFixture>;

const jobStub = (id: number) => newJob(id, 1000, Date.parse('2026-11-23T18:00:00.000Z'));

/** Subscribes and collects, waiting until the subscription is live (a no-op in memory). */
async function collect(events: JobEvents, clientId = clientStub) {
  const received: JobEvent[] = [];
  const unsubscribe = events.subscribe(clientId, (event) => received.push(event));
  await events.head(clientId);
  return { received, unsubscribe };
}

/**
 * What every JobEvents must do (STYLE.md 9), run against each driver in real time: per-client
 * growing ids, delivery to that client's subscribers only, replay or refusal, across instances.
 */
export function describeJobEventsContract(name: string, factory: JobEventsFactory): void {
  describe(`JobEvents contract: ${name}`, () => {
    it('should deliver an event only to the subscribers of its client, from any instance', async () => {
      const { sut, peer } = await factory();
      const mine = await collect(sut);
      const theirs = await collect(sut, otherClientStub);
      const event = await peer.publish(clientStub, jobStub(1));
      await vi.waitFor(() => expect(mine.received).toEqual([event]));
      expect(theirs.received).toEqual([]);
    });

    it("should number each client's events on its own, growing, and report the client's head", async () => {
      const { sut, peer } = await factory();
      const a = await sut.publish(clientStub, jobStub(1));
      for (let i = 0; i < 5; i++) await peer.publish(otherClientStub, jobStub(i));
      const b = await peer.publish(clientStub, jobStub(2));
      expect(Number(b.id)).toBeGreaterThan(Number(a.id));
      expect(await sut.head(clientStub)).toBe(b.id);
      expect(await peer.head(clientStub)).toBe(b.id);
    });

    it('should deliver in order, and stop after unsubscribe, counting subscriptions', async () => {
      const { sut } = await factory();
      const first = await collect(sut);
      const second = await collect(sut);
      expect(sut.subscriptionCount()).toBe(2);
      const published: JobEvent[] = [];
      for (let id = 1; id <= 20; id++) published.push(await sut.publish(clientStub, jobStub(id)));
      await vi.waitFor(() => expect(second.received).toEqual(published));
      expect(first.received).toEqual(published);
      first.unsubscribe();
      first.unsubscribe();
      expect(sut.subscriptionCount()).toBe(1);
      const late = await sut.publish(clientStub, jobStub(21));
      await vi.waitFor(() => expect(second.received.at(-1)).toEqual(late));
      expect(first.received).toHaveLength(20);
      second.unsubscribe();
      expect(sut.subscriptionCount()).toBe(0);
    });

    it("should name each event in its job's eventId, live and replayed alike", async () => {
      const { sut, peer } = await factory();
      const mine = await collect(sut);
      const start = await sut.head(clientStub);
      const stale = { ...jobStub(1), eventId: '1' };
      const first = await peer.publish(clientStub, stale);
      const second = await peer.publish(clientStub, jobStub(2));
      for (const event of [first, second]) expect(event.job.eventId).toBe(event.id);
      await vi.waitFor(() => expect(mine.received).toEqual([first, second]));
      expect(await sut.replay(clientStub, start)).toEqual([first, second]);
    });

    it("should replay only the client's events after an id, in order, on any instance", async () => {
      const { sut, peer } = await factory();
      sut.subscribe(clientStub, () => {});
      const start = await sut.head(clientStub);
      const first = await sut.publish(clientStub, jobStub(1));
      await peer.publish(otherClientStub, jobStub(2));
      await peer.publish(clientStub, jobStub(3));
      const replay = await peer.replay(clientStub, first.id);
      expect(replay?.map((event) => event.job.id)).toEqual([3]);
      expect((await sut.replay(clientStub, start))?.map((event) => event.job.id)).toEqual([1, 3]);
      expect(await sut.replay(clientStub, await sut.head(clientStub))).toEqual([]);
    });

    it('should resume from a head handed out before the first event, the clock having moved on (review of 2026-12-01)', async () => {
      const { sut, peer } = await factory();
      const start = await sut.head(clientStub);
      // The client's first event comes in a later millisecond than its head.
      await vi.waitFor(() => expect(Date.now()).toBeGreaterThan(Number(start) + 2));
      await sut.publish(clientStub, jobStub(1));

      expect((await peer.replay(clientStub, start))?.map((event) => event.job.id)).toEqual([1]);
    });

    it('should replay at most the first limit events after an id (review of 2026-12-01)', async () => {
      const { sut, peer } = await factory();
      const start = await sut.head(clientStub);
      for (let id = 1; id <= 5; id++) await sut.publish(clientStub, jobStub(id));
      const page = await peer.replay(clientStub, start, 2);
      expect(page?.map((event) => event.job.id)).toEqual([1, 2]);
      const next = await peer.replay(clientStub, page![1]!.id, 10);
      expect(next?.map((event) => event.job.id)).toEqual([3, 4, 5]);
    });

    it('should refuse to replay from an id whose successors it no longer holds, a future one or a malformed one', async () => {
      const { sut, peer } = await factory({ REPLAY_LOG_SIZE: '2' });
      sut.subscribe(clientStub, () => {});
      const ids: string[] = [];
      for (let id = 1; id <= 4; id++) ids.push((await sut.publish(clientStub, jobStub(id))).id);
      expect(await peer.replay(clientStub, ids[0]!)).toBeUndefined();
      expect(await peer.replay(clientStub, ids[1]!)).toHaveLength(2);
      expect(await sut.replay(clientStub, String(Number(ids[3]) + 1))).toBeUndefined();
      expect(await sut.replay(clientStub, 'abc')).toBeUndefined();
      expect(await sut.replay(clientStub, '')).toBeUndefined();
      expect(await sut.replay(otherClientStub, ids[1]!)).toBeUndefined();
    });

    it('should lose no event published while a subscription starts: each is replayed or delivered', async () => {
      const { sut, peer } = await factory();
      const before = await peer.publish(clientStub, jobStub(1));
      const received: JobEvent[] = [];
      sut.subscribe(clientStub, (event) => received.push(event));
      const racing = peer.publish(clientStub, jobStub(2));
      const head = await sut.head(clientStub);
      const after = await peer.publish(clientStub, jobStub(3));
      const replayed = (await sut.replay(clientStub, before.id)) ?? [];
      await vi.waitFor(() => expect(received.at(-1)).toEqual(after));
      const seen = new Set([...replayed, ...received].map((event) => event.id));
      expect(seen).toContain((await racing).id);
      expect(Number(head)).toBeGreaterThanOrEqual(Number(before.id));
    });
  });
}
