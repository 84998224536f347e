import { describe, expect, it } from 'vitest';
import { WebhookSubscriptions } from './webhook-subscriptions.js';
import { type WebhookTarget } from './webhook-target.js';

const TARGET: WebhookTarget = {
  url: 'https://receiver.example/hook',
  events: new Set(['completed']),
};
const RETENTION_MS = 1000;

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
});
