import { vi } from 'vitest';

/**
 * Fake clock for one test; `using clock = fakeTimers()` restores real timers when the scope
 * ends. Date is faked too, since the poll budget counts from Date.now().
 */
export const fakeTimers = (): { advance(ms: number): Promise<void>; [Symbol.dispose](): void } => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  return {
    advance: async (ms) => {
      await vi.advanceTimersByTimeAsync(ms);
    },
    [Symbol.dispose]: () => {
      vi.useRealTimers();
    },
  };
};
