/**
 * The delay before attempt `attempt` (1 is the first), or undefined when the schedule is over.
 * A `Retry-After` the receiver sent is honoured when it asks for longer than the schedule would
 * wait, bounded by the schedule's longest step so that a receiver cannot park a delivery forever.
 */
export function retryDelayMs(
  schedule: readonly number[],
  attempt: number,
  retryAfterMs?: number,
): number | undefined {
  const step = schedule[attempt - 1];
  if (step === undefined) return undefined;
  if (retryAfterMs === undefined) return step;
  return Math.max(step, Math.min(retryAfterMs, Math.max(...schedule)));
}

/**
 * [RFC 9110 §10.2.3] `Retry-After`: delay-seconds or an HTTP-date; undefined when absent or
 * unreadable.
 */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d{1,10}$/.test(trimmed)) return Number(trimmed) * 1000;
  // An HTTP-date names its day (`Wed, 21 Oct 2015 07:28:00 GMT`): `-5` would parse as a year.
  const at = /^[a-z]{3},/i.test(trimmed) ? Date.parse(trimmed) : NaN;
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
