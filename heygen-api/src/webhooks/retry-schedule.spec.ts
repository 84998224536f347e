import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRY_SCHEDULE_MS } from '../config/app-config.js';
import { parseRetryAfter, retryDelayMs } from './retry-schedule.js';

describe(retryDelayMs.name, () => {
  it('should follow the schedule, attempt by attempt, then stop', () => {
    const delays = [1, 2, 3, 4, 5, 6, 7, 8, 9].map((attempt) =>
      retryDelayMs(DEFAULT_RETRY_SCHEDULE_MS, attempt),
    );
    expect(delays).toEqual([
      0,
      5_000,
      300_000,
      1_800_000,
      7_200_000,
      18_000_000,
      36_000_000,
      36_000_000,
      undefined,
    ]);
  });

  it('should honour a longer Retry-After, bounded by the longest step', () => {
    const schedule = [0, 50, 100];
    expect(retryDelayMs(schedule, 2, 80)).toBe(80);
    expect(retryDelayMs(schedule, 2, 10)).toBe(50);
    expect(retryDelayMs(schedule, 2, 3_600_000)).toBe(100);
    expect(retryDelayMs(schedule, 4, 80)).toBeUndefined();
  });
});

describe(parseRetryAfter.name, () => {
  const now = Date.parse('2026-01-01T00:00:00Z');

  it('should read delay-seconds and HTTP dates', () => {
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 00:00:00 GMT', now)).toBe(0);
  });

  it('should ignore what is absent or unreadable', () => {
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('-5', now)).toBeUndefined();
  });
});
