import { describe, expect, it, vi } from 'vitest';
import { clientStub, configStub, otherClientStub } from '../../test/unit/stubs.js';
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

  it('should give events growing ids and report the head', async () => {
    const sut = new InMemoryJobEvents(configStub());
    expect(await sut.head()).toBe('0');
    const a = await sut.publish(clientStub, jobStub(1));
    const b = await sut.publish(otherClientStub, jobStub(2));
    expect([a.id, b.id]).toEqual(['1', '2']);
    expect(await sut.head()).toBe('2');
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
    const first = await sut.publish(clientStub, jobStub(1));
    await sut.publish(otherClientStub, jobStub(2));
    await sut.publish(clientStub, jobStub(3));
    const replay = await sut.replay(clientStub, first.id);
    expect(replay?.map((event) => [event.id, event.job.id])).toEqual([['3', 3]]);
    expect(await sut.replay(clientStub, '0')).toHaveLength(2);
  });

  it('should refuse to replay from an id it no longer holds, a future one or a malformed one', async () => {
    const sut = new InMemoryJobEvents(configStub({ REPLAY_LOG_SIZE: '2' }));
    for (let id = 1; id <= 4; id++) await sut.publish(clientStub, jobStub(id));
    expect(await sut.replay(clientStub, '1')).toBeUndefined();
    expect(await sut.replay(clientStub, '2')).toHaveLength(2);
    expect(await sut.replay(clientStub, '9')).toBeUndefined();
    expect(await sut.replay(clientStub, 'abc')).toBeUndefined();
    expect(await sut.replay(clientStub, '')).toBeUndefined();
  });
});
