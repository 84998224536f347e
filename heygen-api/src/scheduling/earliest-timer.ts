/**
 * One timer for many due times (issue 18: never a timer per job): set for the earliest asked, moved
 * only to an earlier time, never kept for a later one. The runner's steps, the webhook retries and
 * the unwatched-job sweep each hold one. Unref'd: the HTTP server keeps the process alive, and a
 * closed app must not be held by what it had scheduled.
 */
export class EarliestTimer {
  private timer: NodeJS.Timeout | undefined;
  /** When the timer fires; Infinity when none is set. */
  private due = Infinity;

  constructor(private readonly fire: () => void) {}

  /** Makes sure the timer fires by `due` (ms since the epoch). */
  setFor(due: number): void {
    if (due >= this.due) return;
    clearTimeout(this.timer);
    this.due = due;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.due = Infinity;
        this.fire();
      },
      Math.max(0, due - Date.now()),
    );
    this.timer.unref();
  }

  clear(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.due = Infinity;
  }
}
