import { fakeClock } from 'heygen-test-support';
import { describe, expect, it, vi } from 'vitest';
import { clientStub } from '../../test/unit/stubs.js';
import { InMemoryWebhookQueue } from './in-memory-webhook-queue.js';
import { type WebhookDelivery } from './webhook-delivery.js';

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
});
