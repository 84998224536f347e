import { describe, expect, it, vi } from 'vitest';
import { clientStub, configStub, otherClientStub, thirdClientStub } from '../../test/unit/stubs.js';
import { fakeClock } from 'heygen-test-support';
import { newJob } from '../domain/job.js';
import { InMemoryJobEvents } from './in-memory-job-events.js';

const jobStub = (id: number) => newJob(id, 1000, Date.parse('2026-11-23T18:00:00.000Z'));

describe(InMemoryJobEvents.name, () => {
  it('should deliver an event only to the subscribers of its client', async () => {
    const sut = new InMemoryJobEvents(configStub());
    const mine = vi.fn();
    const theirs = vi.fn();
    sut.subscribe(clientStub, mine);
    sut.subscribe(otherClientStub, theirs);
    const event = await sut.publish(clientStub, jobStub(1));
    expect(mine).toHaveBeenCalledExactlyOnceWith(event);
    expect(theirs).not.toHaveBeenCalled();
  });

  it("should number each client's events on its own, growing, and report the client's head", async () => {
    using _clock = fakeClock();
    const sut = new InMemoryJobEvents(configStub());
    const a = await sut.publish(clientStub, jobStub(1));
    for (let i = 0; i < 5; i++) await sut.publish(otherClientStub, jobStub(i));
    const b = await sut.publish(clientStub, jobStub(2));
    // Nothing in this client's ids tells how much the other client did meanwhile.
    expect(Number(b.id) - Number(a.id)).toBe(1);
    expect(await sut.head(clientStub)).toBe(b.id);
  });

  it('should stop delivering after unsubscribe, and count subscriptions', async () => {
    const sut = new InMemoryJobEvents(configStub());
    const listener = vi.fn();
    const unsubscribe = sut.subscribe(clientStub, listener);
    const twice = sut.subscribe(clientStub, listener);
    expect(sut.subscriptionCount()).toBe(2);
    unsubscribe();
    unsubscribe();
    expect(sut.subscriptionCount()).toBe(1);
    await sut.publish(clientStub, jobStub(1));
    expect(listener).toHaveBeenCalledTimes(1);
    twice();
    expect(sut.subscriptionCount()).toBe(0);
  });

  it("should replay only the client's events after an id, in order", async () => {
    const sut = new InMemoryJobEvents(configStub());
    sut.subscribe(clientStub, () => {});
    const start = await sut.head(clientStub);
    const first = await sut.publish(clientStub, jobStub(1));
    await sut.publish(otherClientStub, jobStub(2));
    await sut.publish(clientStub, jobStub(3));
    const replay = await sut.replay(clientStub, first.id);
    expect(replay?.map((event) => event.job.id)).toEqual([3]);
    expect(await sut.replay(clientStub, start)).toHaveLength(2);
  });

  it('should refuse to replay from an id whose successors it no longer holds, a future one or a malformed one', async () => {
    const sut = new InMemoryJobEvents(configStub({ REPLAY_LOG_SIZE: '2' }));
    sut.subscribe(clientStub, () => {});
    const ids: string[] = [];
    for (let id = 1; id <= 4; id++) ids.push((await sut.publish(clientStub, jobStub(id))).id);
    expect(await sut.replay(clientStub, ids[0]!)).toBeUndefined();
    expect(await sut.replay(clientStub, ids[1]!)).toHaveLength(2);
    expect(await sut.replay(clientStub, String(Number(ids[3]) + 1))).toBeUndefined();
    expect(await sut.replay(clientStub, 'abc')).toBeUndefined();
    expect(await sut.replay(clientStub, '')).toBeUndefined();
    expect(await sut.replay(otherClientStub, ids[1]!)).toBeUndefined();
  });

  it('should retire a client with nothing left, and resume it from its last id only', async () => {
    using clock = fakeClock();
    const sut = new InMemoryJobEvents(configStub({ REPLAY_LOG_SIZE: '1' }));
    const unsubscribe = sut.subscribe(clientStub, () => {});
    const ids: string[] = [];
    for (let id = 1; id <= 3; id++) ids.push((await sut.publish(clientStub, jobStub(id))).id);
    unsubscribe();
    await sut.publish(otherClientStub, jobStub(9));
    await clock.advance(10);
    expect(sut.clientCount).toBe(1);

    sut.subscribe(clientStub, () => {});
    expect(await sut.replay(clientStub, ids[2]!)).toEqual([]);
    expect(await sut.replay(clientStub, ids[1]!)).toBeUndefined();
    const next = await sut.publish(clientStub, jobStub(4));
    expect(Number(next.id)).toBeGreaterThan(Number(ids[2]));
  });

  it('should start a client retired too long ago afresh, above every id it had', async () => {
    using clock = fakeClock();
    const sut = new InMemoryJobEvents(configStub({ REPLAY_LOG_SIZE: '1' }));
    const last = (await sut.publish(clientStub, jobStub(1))).id;
    await sut.publish(otherClientStub, jobStub(2));
    await clock.advance(10);
    // A third client pushes the other one out, which retires too: only one is remembered.
    await sut.publish(thirdClientStub, jobStub(3));
    await clock.advance(10);

    sut.subscribe(clientStub, () => {});
    expect(await sut.replay(clientStub, last)).toBeUndefined();
    const next = await sut.publish(clientStub, jobStub(4));
    expect(Number(next.id)).toBeGreaterThan(Number(last));
  });
});
