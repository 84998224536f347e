/** `setTimeout` fires at once past this many ms (a signed 32-bit number), not later. */
export const MAX_DELAY = 2 ** 31 - 1;

/**
 * The one clamp of every delay that reaches a timer: a finite number of ms from `min` to
 * {@link MAX_DELAY}. Anything else (NaN, Infinity, a string from a server header) means `min`,
 * so a bad hint can neither spin a loop nor overflow into one.
 */
/** A caller's `timeout`: `undefined` and `Infinity` both mean none. */
export const isBounded = (timeout: number | undefined): timeout is number =>
  timeout !== undefined && timeout !== Infinity;

export const clampDelay = (ms: unknown, min = 0): number =>
  typeof ms === 'number' && Number.isFinite(ms) ? Math.min(Math.max(ms, min), MAX_DELAY) : min;

/**
 * Milliseconds on a clock that only moves forward, for how long something took and when a job is
 * due, never for a date: a wall clock set back or forward made a healthy stream look stalled, a
 * frozen leader tab look alive, and polling stop for as long as the jump (review of 2026-12-01).
 * From 1, never 0: a due time of 0 means none.
 */
export const elapsedNow = (): number => performance.now() + 1;
