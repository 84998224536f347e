import { describe, expect, it, onTestFinished } from 'vitest';
import { clientStub, configStub, otherClientStub, thirdClientStub } from '../../test/unit/stubs.js';
import { fakeClock } from 'heygen-test-support';
import { newJob } from '../domain/job.js';
import { InMemoryJobEvents } from './in-memory-job-events.js';
import { describeJobEventsContract } from './job-events.contract.js';

const jobStub = (id: number) => newJob(id, 1000, Date.parse('2026-11-23T18:00:00.000Z'));

describeJobEventsContract('in memory', (env = {}) => {
  const events = new InMemoryJobEvents(configStub(env));
  onTestFinished(() => events.onModuleDestroy());
  // One process: another "instance" is the same fan-out.
  return Promise.resolve({ sut: events, peer: events });
});

// What only memory has to show: its shared log and how it retires clients.
describe(InMemoryJobEvents.name, () => {
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

  it("should answer a catch-up from a retired client's last id with nothing, not a resync", async () => {
    using clock = fakeClock();
    const sut = new InMemoryJobEvents(configStub({ REPLAY_LOG_SIZE: '1' }));
    const last = (await sut.publish(clientStub, jobStub(1))).id;
    await sut.publish(otherClientStub, jobStub(2));
    await clock.advance(10);
    expect(sut.clientCount).toBe(1); // retired, with no subscriber to bring it back

    // Up to date: read again and again, it must not be sent to resync for ever.
    expect(await sut.replay(clientStub, last)).toEqual([]);
    expect(await sut.replay(clientStub, String(Number(last) - 1))).toBeUndefined();
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
