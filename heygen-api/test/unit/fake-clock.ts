import { vi } from 'vitest';

/**
 * Fake timers and Date for one test, restored when the test's `using` scope ends:
 * `using clock = fakeClock();`.
 */
export function fakeClock(now = Date.parse('2026-11-23T18:00:00.000Z')): Disposable & {
  advance(ms: number): Promise<void>;
} {
  vi.useFakeTimers({ now });
  return {
    advance: async (ms) => {
      await vi.advanceTimersByTimeAsync(ms);
    },
    [Symbol.dispose]: () => {
      vi.useRealTimers();
    },
  };
}
