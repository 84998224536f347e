import { vi } from 'vitest';

type FakeTimerOptions = NonNullable<Parameters<typeof vi.useFakeTimers>[0]>;

export interface FakeClockOptions {
  /** Where the fake `Date` starts. @default 2026-11-23T18:00:00.000Z, the time of the stubs */
  now?: number | Date;
  /** Which globals to fake. @default Vitest's set: every timer and Date */
  toFake?: FakeTimerOptions['toFake'];
}

/** A fake clock for one test; disposing of it restores the real timers and Date. */
export interface FakeClock extends Disposable {
  /** Moves time forward, running every timer due and the promises they settle. */
  advance(ms: number): Promise<void>;
  /** The fake `Date.now()`. */
  now(): number;
}

/**
 * Fakes timers and Date until the test's `using` scope ends, so that poll intervals, reconnect
 * delays and heartbeats are tested without sleeping: `using clock = fakeClock();`.
 *
 * @example
 * ```ts
 * using clock = fakeClock();
 * schedulePoll();
 * await clock.advance(1000);
 * ```
 */
export function fakeClock({
  now = Date.parse('2026-11-23T18:00:00.000Z'),
  toFake,
}: FakeClockOptions = {}): FakeClock {
  vi.useFakeTimers({ now, ...(toFake && { toFake }) });
  return {
    advance: async (ms) => {
      await vi.advanceTimersByTimeAsync(ms);
    },
    now: () => Date.now(),
    [Symbol.dispose]: () => {
      vi.useRealTimers();
    },
  };
}
