import { describe, expect, it } from 'vitest';
import { cancel, complete, newJob, progressTo, start, type Job } from '../domain/job.js';
import { normaliseEvents, webhookEventOf } from './webhook-events.js';

const at = Date.parse('2026-11-23T18:00:00.000Z');
const then = (job: Job | undefined, transition: typeof start, ms: number): Job =>
  transition(job!, at + ms)!;

describe(webhookEventOf.name, () => {
  it('should name each change of a job by what it did', () => {
    const created = newJob(1, 1000, at);
    const running = then(created, start, 0);
    const moved = then(running, progressTo(40), 400);
    expect(webhookEventOf(created)).toBeUndefined();
    expect(webhookEventOf(running)).toBe('running');
    expect(webhookEventOf(moved)).toBe('progress');
    expect(webhookEventOf(then(moved, complete, 1000))).toBe('completed');
    expect(webhookEventOf(then(moved, cancel, 500))).toBe('cancelled');
  });
});

describe(normaliseEvents.name, () => {
  it('should take canceled for cancelled, once', () => {
    expect(normaliseEvents(['canceled', 'completed', 'cancelled'])).toEqual([
      'cancelled',
      'completed',
    ]);
  });
});
