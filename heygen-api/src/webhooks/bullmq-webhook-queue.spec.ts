import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { connectTestRedis, useTestRedis } from '../../test/support/redis-server.js';
import { clientStub } from '../../test/unit/stubs.js';
import {
  BullmqWebhookQueue,
  MAX_IN_FLIGHT_PER_CLIENT,
  MAX_IN_FLIGHT_PER_HOST,
  WEBHOOK_QUEUE_NAME,
} from './bullmq-webhook-queue.js';
import { type WebhookDelivery } from './webhook-delivery.js';
import { type DeliveryRef } from './webhook-queue.js';
import { Queue } from 'bullmq';
import { bullmqConnection } from '../redis/bullmq.js';

const redis = useTestRedis();

const deliveryStub = (
  deliveryId: string,
  host: string,
  clientId = clientStub,
): WebhookDelivery => ({
  deliveryId,
  clientId,
  jobId: 1,
  eventId: '1',
  host,
  type: 'job.completed',
  body: '{}',
  attempts: 0,
  scheduled: 0,
  state: 'pending',
});

/**
 * A running queue on the test Redis whose attempts of the deliveries `hangs` picks never end
 * (until the test does); returns the ids handed over, in order.
 */
async function startQueue(hangs: (delivery: DeliveryRef) => boolean) {
  const { config, connections } = await connectTestRedis(redis);
  const sut = new BullmqWebhookQueue(config, connections);
  const started: string[] = [];
  const hanging: (() => void)[] = [];
  sut.process((delivery) => {
    started.push(delivery.deliveryId);
    if (!hangs(delivery)) return Promise.resolve();
    return new Promise<void>((resolve) => hanging.push(resolve));
  });
  sut.onModuleInit();
  onTestFinished(async () => {
    for (const resolve of hanging) resolve();
    await sut.beforeApplicationShutdown();
  });
  return { sut, started, connections };
}

describe(BullmqWebhookQueue.name, () => {
  it('should ask ever less often for an attempt parked behind a busy host (review of 2026-12-01)', async () => {
    const { sut, connections } = await startQueue(({ host }) => host === 'tarpit.example:443');
    for (let i = 0; i <= MAX_IN_FLIGHT_PER_HOST; i++) {
      await sut.schedule(deliveryStub(`tarpit-${i}`, 'tarpit.example:443', `c-${i}`), Date.now());
    }
    const { connection, prefix } = bullmqConnection(connections, 'test');
    const queue = new Queue(WEBHOOK_QUEUE_NAME, { connection, prefix });
    onTestFinished(() => queue.close());

    await new Promise((resolve) => setTimeout(resolve, 7500));

    // One of them is parked: taken at 0, then after 1, 2 and 4 s (jittered), not every second.
    const jobs = await Promise.all(
      Array.from({ length: MAX_IN_FLIGHT_PER_HOST + 1 }, (_, i) => queue.getJob(`tarpit-${i}-0`)),
    );
    const taken = jobs.map((job) => job?.attemptsStarted ?? 0).sort((a, b) => b - a);
    expect(taken[0]).toBeGreaterThanOrEqual(2);
    expect(taken[0]).toBeLessThanOrEqual(5);
  });

  it('should leave the slots of a host that never answers to the other hosts (review of 2026-11-30)', async () => {
    const { sut, started } = await startQueue(({ host }) => host === 'tarpit.example:443');

    // Each of another client: only the host's budget applies.
    for (let i = 0; i < 80; i++) {
      await sut.schedule(
        deliveryStub(`tarpit-${i}`, 'tarpit.example:443', `client-${i}`),
        Date.now(),
      );
    }
    await sut.schedule(deliveryStub('other', 'receiver.example:443'), Date.now());

    await vi.waitFor(() => expect(started).toContain('other'), { timeout: 10_000 });
    const tarpit = started.filter((id) => id.startsWith('tarpit'));
    expect(tarpit.length).toBeLessThanOrEqual(MAX_IN_FLIGHT_PER_HOST);
  });

  it('should leave the slots one client holds on many silent hosts to the other clients (review of 2026-12-01)', async () => {
    const { sut, started } = await startQueue(({ clientId }) => clientId === 'sprayer');

    for (let i = 0; i < 80; i++) {
      await sut.schedule(deliveryStub(`spray-${i}`, `h${i}.example:443`, 'sprayer'), Date.now());
    }
    await sut.schedule(deliveryStub('other', 'receiver.example:443'), Date.now());

    await vi.waitFor(() => expect(started).toContain('other'), { timeout: 10_000 });
    const sprayed = started.filter((id) => id.startsWith('spray'));
    expect(sprayed.length).toBeLessThanOrEqual(MAX_IN_FLIGHT_PER_CLIENT);
  });
});
