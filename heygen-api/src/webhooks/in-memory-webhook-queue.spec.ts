import { fakeClock } from 'heygen-test-support';
import { describe, expect, it, vi } from 'vitest';
import { clientStub } from '../../test/unit/stubs.js';
import { InMemoryWebhookQueue, MAX_IN_FLIGHT_PER_CLIENT } from './in-memory-webhook-queue.js';
import { type WebhookDelivery } from './webhook-delivery.js';
import { MAX_SOCKETS_PER_HOST } from './webhook-sender.js';

const deliveryStub = (deliveryId: string): WebhookDelivery => ({
  deliveryId,
  clientId: clientStub,
  jobId: 1,
  eventId: '1',
  type: 'job.completed',
  body: '{}',
  attempts: 0,
  scheduled: 0,
  state: 'pending',
});

function newTestQueue() {
  const sut = new InMemoryWebhookQueue();
  const handed: string[] = [];
  sut.process((delivery) => {
    handed.push(delivery.deliveryId);
    return Promise.resolve();
  });
  return { sut, handed };
}

/** A queue whose attempts never end until the test ends one: `hanging` by delivery id. */
function newSilentQueue() {
  const sut = new InMemoryWebhookQueue();
  const started: string[] = [];
  const hanging = new Map<string, () => void>();
  sut.process((delivery) => {
    started.push(delivery.deliveryId);
    return new Promise<void>((resolve) => hanging.set(delivery.deliveryId, resolve));
  });
  return { sut, started, hanging };
}

describe(InMemoryWebhookQueue.name, () => {
  it('should hand deliveries over when due, earliest first, on one timer', async () => {
    using clock = fakeClock();
    const { sut, handed } = newTestQueue();
    const now = clock.now();
    sut.schedule(deliveryStub('late'), now + 300);
    sut.schedule(deliveryStub('early'), now + 100);
    sut.schedule(deliveryStub('middle'), now + 200);
    expect(vi.getTimerCount()).toBe(1);
    await clock.advance(150);
    expect(handed).toEqual(['early']);
    await clock.advance(200);
    expect(handed).toEqual(['early', 'middle', 'late']);
    expect(sut.size).toBe(0);
    sut.onModuleDestroy();
  });

  it('should replace an earlier schedule of the same delivery, and forget a cancelled one', async () => {
    using clock = fakeClock();
    const { sut, handed } = newTestQueue();
    const now = clock.now();
    sut.schedule(deliveryStub('moved'), now + 100);
    sut.schedule(deliveryStub('moved'), now + 500);
    sut.schedule(deliveryStub('cancelled'), now + 50);
    sut.cancel('cancelled');
    await clock.advance(200);
    expect(handed).toEqual([]);
    await clock.advance(400);
    expect(handed).toEqual(['moved']);
    sut.onModuleDestroy();
  });

  it('should hold nothing and schedule nothing once destroyed', async () => {
    using clock = fakeClock();
    const { sut, handed } = newTestQueue();
    sut.onModuleDestroy();
    sut.schedule(deliveryStub('after'), clock.now());
    await clock.advance(10);
    expect(handed).toEqual([]);
    expect(sut.size).toBe(0);
  });

  it("should give each receiving host at most its sockets' worth of attempts, so a silent one holds up no other (review of 2026-11-30)", async () => {
    using clock = fakeClock();
    const { sut, started, hanging } = newSilentQueue();
    const now = clock.now();
    // Each of another client: only the host's budget applies.
    for (let i = 0; i < MAX_SOCKETS_PER_HOST + 10; i++) {
      sut.schedule(
        { ...deliveryStub(`tarpit-${i}`), clientId: `client-${i}`, host: 'tarpit.example:443' },
        now,
      );
    }
    sut.schedule({ ...deliveryStub('other'), host: 'receiver.example:443' }, now + 1);

    await clock.advance(10);

    expect(started.filter((id) => id.startsWith('tarpit'))).toHaveLength(MAX_SOCKETS_PER_HOST);
    expect(started).toContain('other');
    // One of the silent host's attempts ends: its next delivery goes, in order.
    sut.cancel(`tarpit-${MAX_SOCKETS_PER_HOST}`);
    hanging.get('tarpit-0')!();
    await clock.advance(0);
    expect(started.at(-1)).toBe(`tarpit-${MAX_SOCKETS_PER_HOST + 1}`);
    sut.onModuleDestroy();
  });

  it('should give one client at most a quarter of the slots across every host it aims at, so it holds up no other client (review of 2026-12-01)', async () => {
    using clock = fakeClock();
    const { sut, started, hanging } = newSilentQueue();
    const now = clock.now();
    // 300 silent hosts, one delivery each: every host is within its own budget.
    for (let i = 0; i < 300; i++) {
      sut.schedule(
        { ...deliveryStub(`spray-${i}`), clientId: 'sprayer', host: `h${i}.example:443` },
        now,
      );
    }
    sut.schedule({ ...deliveryStub('other'), host: 'receiver.example:443' }, now + 1);

    await clock.advance(10);

    expect(started.filter((id) => id.startsWith('spray'))).toHaveLength(MAX_IN_FLIGHT_PER_CLIENT);
    expect(started).toContain('other');
    // One of the client's attempts ends: its next delivery goes, in due order.
    hanging.get('spray-0')!();
    await clock.advance(0);
    expect(started.at(-1)).toBe(`spray-${MAX_IN_FLIGHT_PER_CLIENT}`);
    sut.onModuleDestroy();
  });

  it('should count the uuids of one API key as one client (review of 2026-12-01)', async () => {
    using clock = fakeClock();
    const { sut, started } = newSilentQueue();
    const now = clock.now();
    // Four uuids under one key, each aiming at hosts of its own.
    for (let i = 0; i < 300; i++) {
      const clientId = `keyscope/uuid-${i % 4}`;
      sut.schedule({ ...deliveryStub(`spray-${i}`), clientId, host: `h${i}.example:443` }, now);
    }
    sut.schedule({ ...deliveryStub('other'), host: 'receiver.example:443' }, now + 1);

    await clock.advance(10);

    expect(started.filter((id) => id.startsWith('spray'))).toHaveLength(MAX_IN_FLIGHT_PER_CLIENT);
    expect(started).toContain('other');
    sut.onModuleDestroy();
  });

  it('should forget every lane once idle, those of deliveries cancelled while they waited too (review of 2026-12-01)', async () => {
    using clock = fakeClock();
    const { sut, hanging } = newSilentQueue();
    const now = clock.now();
    const spray = (i: number) => ({
      ...deliveryStub(`spray-${i}`),
      clientId: 'sprayer',
      host: `h${i}.example:443`,
    });
    // The client's budget in flight, then 500 more of its deliveries, each to a host of its own,
    // waiting for the client's lane and cancelled there (superseded, or after a 410).
    for (let i = 0; i < MAX_IN_FLIGHT_PER_CLIENT + 500; i++) sut.schedule(spray(i), now);
    await clock.advance(10);
    for (let i = MAX_IN_FLIGHT_PER_CLIENT; i < MAX_IN_FLIGHT_PER_CLIENT + 500; i++) {
      sut.cancel(`spray-${i}`);
    }
    for (const end of hanging.values()) end();
    await clock.advance(10);

    expect(sut.size).toBe(0);
    expect(sut.lanesHeld).toBe(0);
    sut.onModuleDestroy();
  });

  it('should not keep cancelled entries in its heap until they come due (review of 2026-12-02)', async () => {
    using clock = fakeClock();
    const { sut, handed } = newTestQueue();
    const now = clock.now();
    const hour = 3_600_000;
    for (let i = 0; i < 10; i++) sut.schedule(deliveryStub(`kept-${i}`), now + hour + i);
    // Retries due hours on, cancelled at once (given up at MAX_RETAINED_JOBS, or after a 410).
    for (let i = 0; i < 10_000; i++) {
      sut.schedule(deliveryStub(`given-up-${i}`), now + 2 * hour);
      sut.cancel(`given-up-${i}`);
    }

    expect(sut.size).toBe(10);
    // The live ones, and no more dead ones than a rebuild's threshold (it held all 10,010).
    expect(sut.entriesHeld).toBeLessThanOrEqual(10 + 64);
    await clock.advance(3 * hour);
    expect(handed).toEqual(Array.from({ length: 10 }, (_, i) => `kept-${i}`));
    expect(sut.entriesHeld).toBe(0);
    sut.onModuleDestroy();
  });

  it.each(['a schedule', 'a rebuild'] as const)(
    'should still hand over what waits in a lane when its next in line is cancelled and %s drops it',
    async (dropper) => {
      using clock = fakeClock();
      const { sut, started, hanging } = newSilentQueue();
      const now = clock.now();
      const tarpit = (i: number) => ({
        ...deliveryStub(`tarpit-${i}`),
        clientId: `client-${i}`,
        host: 'tarpit.example:443',
      });
      // The host's budget in flight, two more waiting in its lane, and 200 retries due later.
      for (let i = 0; i < MAX_SOCKETS_PER_HOST + 2; i++) sut.schedule(tarpit(i), now);
      for (let i = 0; i < 200; i++) sut.schedule(deliveryStub(`later-${i}`), now + 3_600_000);
      await clock.advance(10);
      expect(started).toHaveLength(MAX_SOCKETS_PER_HOST);
      // One attempt ends: the first waiting goes back into the heap as the lane's next in line
      // (the attempt's end runs as a promise settles, before any timer)...
      hanging.get('tarpit-0')!();
      await Promise.resolve();
      // ...and is cancelled there, then dropped without ever coming to the top: by the next
      // schedule (the dead are cleared off the top), or by the rebuild the cancels make.
      sut.cancel(`tarpit-${MAX_SOCKETS_PER_HOST}`);
      if (dropper === 'a schedule') sut.schedule(deliveryStub('another'), now + 3_600_000);
      else for (let i = 0; i < 200; i++) sut.cancel(`later-${i}`);
      if (dropper === 'a rebuild') expect(sut.entriesHeld).toBeLessThan(100);

      await clock.advance(10);

      expect(started.at(-1)).toBe(`tarpit-${MAX_SOCKETS_PER_HOST + 1}`);
      sut.onModuleDestroy();
    },
  );
});
