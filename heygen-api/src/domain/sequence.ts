/**
 * The next id of a per-client sequence (job ids, event ids): one more than the last, or the clock
 * in ms when that is larger (a hybrid logical clock). Per client, so the ids one client sees say
 * nothing of anyone else's activity (issue 18); clock-based, so a sequence that was forgotten (its
 * client had nothing left on the server) starts again above every id it gave before, as long as it
 * was forgotten only once the clock had passed its last id: see {@link canForget}.
 */
export function nextId(last: number, now: number): number {
  return Math.max(last + 1, Math.floor(now));
}

/** Whether a sequence whose last id is `last` may be forgotten at `now` without ever reusing an id. */
export function canForget(last: number, now: number): boolean {
  return last < Math.floor(now);
}
