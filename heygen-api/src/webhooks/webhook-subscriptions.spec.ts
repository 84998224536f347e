import { describe, expect, it } from 'vitest';
import { type WebhookDelivery } from './webhook-delivery.js';
import { WebhookSubscriptions } from './webhook-subscriptions.js';
import { type WebhookTarget } from './webhook-target.js';

const TARGET: WebhookTarget = {
  url: 'https://receiver.example/hook',
  events: new Set(['completed']),
};
const RETENTION_MS = 1000;

/** A job's final delivery, pending: its receiver answers 500 and its schedule runs for hours. */
function pendingDelivery(clientId: string, jobId: number): WebhookDelivery {
  return {
    deliveryId: `${clientId}-${jobId}`,
    clientId,
    jobId,
    eventId: String(jobId),
    type: 'job.completed',
    body: 'x'.repeat(2000),
    attempts: 1,
    scheduled: 1,
    state: 'pending',
    nextAttemptAt: 5 * 60_000,
  };
}

/** Subscribes a job that finishes at once with its final delivery pending; returns what went. */
function addFinishedPending(sut: WebhookSubscriptions, clientId: string, jobId: number, now = 0) {
  const givenUp = sut.add(clientId, jobId, TARGET, now);
  sut.addDelivery(sut.get(clientId, jobId)!, pendingDelivery(clientId, jobId));
  sut.finish(clientId, jobId);
  return givenUp;
}

describe(WebhookSubscriptions.name, () => {
  it('should drop settled entries past their retention, whatever waits in front of them (review of 2026-12-01)', () => {
    const sut = new WebhookSubscriptions(1_000_000, RETENTION_MS);
    // 16 jobs that run on (long jobs, or deliveries retried for hours) come first.
    for (let id = 1; id <= 16; id++) sut.add('long', id, TARGET, 0);
    // Then jobs that finish at once, each settled: they may go RETENTION_MS later.
    for (let id = 1; id <= 20_000; id++) {
      const now = id * 10;
      sut.add('short', id, TARGET, now);
      sut.get('short', id)!.finished = true;
    }

    // Kept: the 16, and those finished within the last RETENTION_MS (100), give or take a sweep.
    expect(sut.size).toBeLessThan(16 + 200);
    expect(sut.get('long', 1)).toBeDefined();
    expect(sut.get('short', 20_000)).toBeDefined();
  });

  it('should keep an unfinished job however full it is', () => {
    const sut = new WebhookSubscriptions(10, RETENTION_MS);
    for (let id = 1; id <= 50; id++) sut.add('long', id, TARGET, 0);

    expect(sut.size).toBe(50);
  });

  it('should hold at most maxKept when finished jobs still have deliveries pending, giving up the oldest (review of 2026-12-02)', () => {
    const sut = new WebhookSubscriptions(20, RETENTION_MS);
    const givenUp: WebhookDelivery[] = [];
    // Within the retention, every receiver answering 500: no entry is settled, none expired.
    for (let id = 1; id <= 1000; id++) givenUp.push(...addFinishedPending(sut, 'c', id));

    expect(sut.size).toBeLessThanOrEqual(20);
    // The oldest finished went, in the order they finished; the latest 20 are kept.
    expect(givenUp.map((d) => d.jobId)).toEqual(Array.from({ length: 980 }, (_, i) => i + 1));
    expect(sut.get('c', 980)).toBeUndefined();
    expect(sut.get('c', 981)?.deliveries.get('c-981')?.state).toBe('pending');
    // Given up as a 410 does: failed, nothing more promised.
    for (const delivery of givenUp) {
      expect(delivery.state).toBe('failed');
      expect(delivery.nextAttemptAt).toBeUndefined();
    }
  });

  it('should never give up an unfinished job at the cap, only finished ones (review of 2026-12-02)', () => {
    const sut = new WebhookSubscriptions(20, RETENTION_MS);
    // 10 jobs still running, with a `running` delivery pending, come first.
    for (let id = 1; id <= 10; id++) {
      sut.add('long', id, TARGET, 0);
      sut.addDelivery(sut.get('long', id)!, {
        ...pendingDelivery('long', id),
        type: 'job.running',
      });
    }
    const givenUp: WebhookDelivery[] = [];
    for (let id = 1; id <= 500; id++) givenUp.push(...addFinishedPending(sut, 'short', id));

    expect(sut.size).toBeLessThanOrEqual(20);
    expect(givenUp.every((delivery) => delivery.clientId === 'short')).toBe(true);
    for (let id = 1; id <= 10; id++) {
      expect(sut.get('long', id)?.deliveries.get(`long-${id}`)?.state).toBe('pending');
    }
    expect(sut.get('short', 500)).toBeDefined();
  });

  it('should go back under the cap once unfinished jobs past it finish', () => {
    const sut = new WebhookSubscriptions(10, RETENTION_MS);
    for (let id = 1; id <= 50; id++) {
      sut.add('long', id, TARGET, 0);
      sut.addDelivery(sut.get('long', id)!, pendingDelivery('long', id));
    }
    for (let id = 1; id <= 50; id++) sut.finish('long', id);

    // Each registration drops up to SWEEP_STEP (16) of the oldest finished.
    const givenUp: WebhookDelivery[] = [];
    for (let id = 1; id <= 5; id++) givenUp.push(...sut.add('next', id, TARGET, 0));

    expect(sut.size).toBeLessThanOrEqual(10);
    expect(givenUp).toHaveLength(50 - 10 + 5);
    expect(sut.get('next', 5)).toBeDefined();
  });

  it('should give up nothing while there is room, nor for a job subscribed again', () => {
    const sut = new WebhookSubscriptions(3, RETENTION_MS);
    expect(addFinishedPending(sut, 'c', 1)).toEqual([]);
    expect(addFinishedPending(sut, 'c', 2)).toEqual([]);
    expect(addFinishedPending(sut, 'c', 3)).toEqual([]);
    // A creation retried with its key: the job is held, nothing need go.
    expect(sut.add('c', 3, TARGET, 0)).toEqual([]);

    expect(sut.size).toBe(3);
  });
});
