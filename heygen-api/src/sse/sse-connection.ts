import { formatRetry, formatSse, type SseMessage } from './sse-format.js';
import { type SseResponse } from './sse-response.js';

/** The head of every event stream (docs/protocol.md, "Opening"); HEAD answers it too. */
export const STREAM_HEADERS: Readonly<Record<string, string>> = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-cache, no-transform',
  Connection: 'keep-alive',
  // Reverse proxies such as nginx would otherwise buffer the stream.
  'X-Accel-Buffering': 'no',
};

/**
 * One open event stream: writes events and drops the connection when the reader falls more than
 * `bufferLimit` bytes behind, so a slow reader cannot grow server memory.
 */
export class SseConnection {
  private closed = false;
  /**
   * Set once the head is sent. A heartbeat that comes while the opening burst is being read would
   * otherwise make Node send a bare head of its own, and the real one could never follow.
   */
  private opened = false;
  /**
   * Bytes of the opening burst (snapshot or replay) still allowed in the buffer on top of the
   * limit: that burst is bounded by the client's jobs, and refusing it would lock the client out.
   * Cleared once the buffer drains.
   */
  private burstAllowance = 0;

  constructor(
    private readonly res: SseResponse,
    private readonly bufferLimit: number,
  ) {
    res.on('close', () => {
      this.closed = true;
    });
    res.on('drain', () => {
      this.burstAllowance = 0;
    });
  }

  get isOpen(): boolean {
    return !this.closed && !this.res.destroyed;
  }

  /**
   * Sends the response head, the reconnection delay and the opening burst (`connected`, then the
   * snapshot or the replay), which the buffer limit lets through.
   */
  open(retryMs: number, burst: SseMessage[]): void {
    if (!this.isOpen) return;
    this.opened = true;
    this.res.writeHead(200, { ...STREAM_HEADERS });
    this.res.write(formatRetry(retryMs) + burst.map(formatSse).join(''));
    this.burstAllowance = this.res.writableLength;
  }

  /** Sends an event already formatted with formatSse: one event reaches many streams, serialised once. */
  send(frame: string): void {
    this.write(frame);
  }

  /** Ends the stream politely; the client reconnects with Last-Event-ID. */
  end(): void {
    if (this.isOpen) this.res.end();
  }

  private write(chunk: string): void {
    if (!this.opened || !this.isOpen) return;
    this.res.write(chunk);
    if (this.res.writableLength > this.bufferLimit + this.burstAllowance) {
      // The client resumes from its Last-Event-ID, so dropping it loses nothing.
      this.res.destroy();
    }
  }
}
