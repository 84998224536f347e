import { type JobEvent } from '../events/job-events.js';

/** A job whose progress went out within the interval: the latest change since, if any. */
interface Window {
  held: JobEvent | undefined;
  timer: NodeJS.Timeout;
}

/**
 * At most one `progress` webhook per job per interval, the latest change at its end, as Replicate
 * sends its output webhooks (docs/protocol.md, "Webhooks"). A job reports progress many times a
 * second, and each would be a POST with its own retries, to a URL the client chose; a receiver
 * needs only where the job stands. The first change of a quiet job goes at once; the ones within
 * the interval after it fold into one that goes at its end. A final change drops a held one: it
 * carries the job as it ended.
 *
 * Per process: with the redis driver, one instance runs the job and makes its progress changes.
 */
export class ProgressThrottle {
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly intervalMs: number,
    /** Sends a held change at the end of its window. */
    private readonly release: (event: JobEvent) => void,
  ) {}

  /** Jobs in a window now, for leak checks. */
  get size(): number {
    return this.windows.size;
  }

  /** Whether a progress change goes now; if not, it is held (replacing one held) until it may. */
  admit(event: JobEvent): boolean {
    if (this.intervalMs === 0) return true;
    const key = keyOf(event);
    const window = this.windows.get(key);
    if (window) {
      window.held = event;
      return false;
    }
    this.open(key);
    return true;
  }

  /** The job changed in a way that supersedes its progress (it finished): a held change is dropped. */
  drop(event: JobEvent): void {
    const key = keyOf(event);
    const window = this.windows.get(key);
    if (!window) return;
    clearTimeout(window.timer);
    this.windows.delete(key);
  }

  close(): void {
    for (const window of this.windows.values()) clearTimeout(window.timer);
    this.windows.clear();
  }

  private open(key: string): void {
    const timer = setTimeout(() => this.end(key), this.intervalMs);
    timer.unref();
    this.windows.set(key, { held: undefined, timer });
  }

  /** A window ends: its held change goes, and opens the next one; none held, the job is quiet. */
  private end(key: string): void {
    const held = this.windows.get(key)?.held;
    this.windows.delete(key);
    if (!held) return;
    this.open(key);
    this.release(held);
  }
}

const keyOf = ({ clientId, job }: JobEvent): string => `${clientId}#${job.id}`;
