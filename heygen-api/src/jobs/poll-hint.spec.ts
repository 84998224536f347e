import { describe, expect, it } from 'vitest';
import { cancel, newJob } from '../domain/job.js';
import { batchPollHintMs, pollHintMs } from './poll-hint.js';

const T0 = Date.parse('2026-11-23T18:00:00.000Z');

describe(pollHintMs.name, () => {
  it('should point just past the expected finish', () => {
    expect(pollHintMs(newJob(1, 3000, T0), T0 + 1000, 10)).toBe(2010);
  });

  it('should never be negative for a job running late', () => {
    expect(pollHintMs(newJob(1, 3000, T0), T0 + 9000, 10)).toBe(10);
  });

  it("should point just past a Cancel-After deadline that comes before the job's finish (review of 2026-12-01)", () => {
    expect(pollHintMs(newJob(1, 20_000, T0), T0, 10, T0 + 2000)).toBe(2010);
    expect(pollHintMs(newJob(1, 3000, T0), T0, 10, T0 + 5000)).toBe(3010);
  });

  it('should be absent for a finished job', () => {
    expect(pollHintMs(cancel(newJob(1, 3000, T0), T0)!, T0, 10)).toBeUndefined();
  });

  it('should take the soonest hint of a batch, ignoring finished jobs', () => {
    const jobs = [newJob(1, 3000, T0), newJob(2, 500, T0), cancel(newJob(3, 100, T0), T0)!];
    expect(batchPollHintMs(jobs, T0, 0)).toBe(500);
    expect(batchPollHintMs([jobs[2]!], T0, 0)).toBeUndefined();
  });

  it("should take a batch job's Cancel-After deadline into its hint (review of 2026-12-01)", () => {
    const jobs = [newJob(1, 3000, T0), newJob(2, 20_000, T0)];
    expect(batchPollHintMs(jobs, T0, 0, new Map([[2, T0 + 1000]]))).toBe(1000);
  });
});
