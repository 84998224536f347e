import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { newJob, progressTo, start, type Job } from '../domain/job.js';
import { type JobEvent } from '../events/job-events.js';
import { ProgressThrottle } from './progress-throttle.js';

const at = Date.parse('2026-12-01T00:00:00.000Z');
let sequence = 0;

/** A progress change of job `jobId` to `progress` %, as the events port hands it out. */
function progressOf(jobId: number, progress: number, clientId = 'client-a'): JobEvent {
  const running = start(newJob(jobId, 1000, at), at)!;
  const job: Job = progressTo(progress)(running, at + progress)!;
  return { id: String(++sequence), clientId, job };
}

describe(ProgressThrottle.name, () => {
  let released: JobEvent[];
  let throttle: ProgressThrottle;

  beforeEach(() => {
    vi.useFakeTimers();
    released = [];
    throttle = new ProgressThrottle(500, (event) => released.push(event));
  });
  afterEach(() => {
    throttle.close();
    vi.useRealTimers();
  });

  it("should let a quiet job's first change go at once", () => {
    expect(throttle.admit(progressOf(1, 10))).toBe(true);
  });

  it('should fold the changes within the interval into the latest, sent at its end', () => {
    expect(throttle.admit(progressOf(1, 10))).toBe(true);
    for (const progress of [20, 30, 40]) {
      vi.advanceTimersByTime(100);
      expect(throttle.admit(progressOf(1, progress))).toBe(false);
    }
    expect(released).toEqual([]);
    vi.advanceTimersByTime(200);
    expect(released.map((event) => event.job.progress)).toEqual([40]);
  });

  it('should send at most one change per interval while the job keeps changing', () => {
    let admitted = 0;
    // 99 changes (100 is completion's), one every 20 ms: 2 s of progress.
    for (let progress = 1; progress <= 99; progress += 1) {
      if (throttle.admit(progressOf(1, progress))) admitted += 1;
      vi.advanceTimersByTime(20);
    }
    vi.advanceTimersByTime(500);
    const sent = admitted + released.length;
    expect(sent).toBeGreaterThanOrEqual(4);
    expect(sent).toBeLessThanOrEqual(5);
    expect(released.at(-1)!.job.progress).toBe(99);
  });

  it('should drop a held change when the job finishes, and forget the job', () => {
    throttle.admit(progressOf(1, 10));
    throttle.admit(progressOf(1, 20));
    throttle.drop(progressOf(1, 20));
    vi.advanceTimersByTime(1000);
    expect(released).toEqual([]);
    expect(throttle.size).toBe(0);
  });

  it('should forget a job once an interval passes with nothing held', () => {
    throttle.admit(progressOf(1, 10));
    vi.advanceTimersByTime(500);
    expect(throttle.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    expect(throttle.admit(progressOf(1, 20))).toBe(true);
  });

  it('should throttle each job of each client apart', () => {
    expect(throttle.admit(progressOf(1, 10))).toBe(true);
    expect(throttle.admit(progressOf(2, 10))).toBe(true);
    expect(throttle.admit(progressOf(1, 10, 'client-b'))).toBe(true);
    expect(throttle.admit(progressOf(1, 20))).toBe(false);
  });

  it('should let every change go when the interval is 0', () => {
    const unthrottled = new ProgressThrottle(0, (event) => released.push(event));
    expect(unthrottled.admit(progressOf(1, 10))).toBe(true);
    expect(unthrottled.admit(progressOf(1, 20))).toBe(true);
    expect(unthrottled.size).toBe(0);
  });
});
