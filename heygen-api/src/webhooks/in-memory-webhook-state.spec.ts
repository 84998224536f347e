import { describe, expect, it } from 'vitest';
import { type AppConfig } from '../config/app-config.js';
import { InMemoryWebhookState } from './in-memory-webhook-state.js';
import { type WebhookDelivery } from './webhook-delivery.js';

const config = { maxRetainedJobs: 100, retentionMs: 60_000 } as AppConfig;
const target = { url: 'https://example.com/hook', events: new Set(['completed'] as const) };

function delivery(deliveryId: string, eventId: string): WebhookDelivery {
  return {
    deliveryId,
    clientId: 'client',
    jobId: 1,
    eventId,
    type: 'job.completed',
    body: '{}',
    attempts: 0,
    scheduled: 0,
    state: 'pending',
    nextAttemptAt: 0,
  };
}

describe('InMemoryWebhookState', () => {
  it('should keep one delivery per event, and answer the kept one when told it again', async () => {
    const sut = new InMemoryWebhookState(config);
    await sut.subscribe('client', 1, target);

    const first = await sut.addDelivery(delivery('a', 'ev-1'));
    const again = await sut.addDelivery(delivery('b', 'ev-1'));
    const other = await sut.addDelivery(delivery('c', 'ev-2'));

    expect(first.deliveryId).toBe('a');
    expect(again).toBe(first);
    expect(other.deliveryId).toBe('c');
    expect(await sut.delivery('client', 1, 'b')).toBeUndefined();
  });

  it('should keep a subscription and its deliveries when the job is subscribed again', async () => {
    const sut = new InMemoryWebhookState(config);
    await sut.subscribe('client', 1, target);
    await sut.addDelivery(delivery('a', 'ev-1'));

    // A creation retried with its Idempotency-Key subscribes the job again.
    await sut.subscribe('client', 1, target);

    expect(await sut.delivery('client', 1, 'a')).toMatchObject({ eventId: 'ev-1' });
  });

  it('should never drop the webhook of an unfinished job to make room, only a settled one', async () => {
    const sut = new InMemoryWebhookState({ ...config, maxRetainedJobs: 2 });
    await sut.subscribe('client', 1, target);
    await sut.subscribe('client', 2, target);
    sut.finished('client', 2);

    await sut.subscribe('client', 3, target);
    await sut.subscribe('client', 4, target);

    // Job 1 still runs: its final event must find its webhook; job 2, settled, made room.
    expect(await sut.subscription('client', 1)).toBeDefined();
    expect(await sut.subscription('client', 2)).toBeUndefined();
    expect(await sut.subscription('client', 3)).toBeDefined();
  });
});
