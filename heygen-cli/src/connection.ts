import { type ConnectionState, type TransportKind } from 'heygen-lib';

/**
 * Follows the library's connection state (HeyGenAPI's `onStateChange`), so the run can wait for
 * the return to SSE instead of inferring it from counters.
 */
export class ConnectionWatch {
  private state: ConnectionState = { state: 'idle' };
  private readonly waiters = new Set<() => void>();
  /** When a stream last opened (ms since the epoch), 0 before the first. */
  private streamOpenedAt = 0;

  /** Pass as the `onStateChange` option. */
  readonly onStateChange = (state: ConnectionState): void => {
    this.state = state;
    if (state.state === 'open' && state.transport === 'sse') this.streamOpenedAt = Date.now();
    for (const wake of [...this.waiters]) wake();
  };

  /**
   * Whether a stream opened at or after `time`. The library keeps no connection while nothing is
   * watched, so a return to SSE can only be seen while some job is still unfinished.
   */
  streamOpenedSince(time: number): boolean {
    return this.streamOpenedAt >= time;
  }

  /** Whether the library is connected or connecting (it is idle or closed when nothing is watched). */
  get active(): boolean {
    return this.state.state === 'open' || this.state.state === 'connecting';
  }

  /** The transport delivering now, if any. */
  get transport(): TransportKind | undefined {
    return this.state.state === 'open' || this.state.state === 'connecting'
      ? this.state.transport
      : undefined;
  }

  /** True once a stream is open (now or within `timeoutMs`), false when the time runs out. */
  streaming(timeoutMs: number): Promise<boolean> {
    const open = (): boolean => this.state.state === 'open' && this.state.transport === 'sse';
    if (open()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const settle = (result: boolean): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(result);
      };
      const check = (): void => {
        if (open()) settle(true);
      };
      const timer = setTimeout(() => settle(false), timeoutMs);
      this.waiters.add(check);
    });
  }
}
