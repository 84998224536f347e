import { type StreamTally } from '../metrics/app-metrics.js';
import { formatRetry, formatSse, type SseMessage } from './sse-format.js';
import { type SseResponse } from './sse-response.js';

/**
 * The head of a `HEAD` of the stream: the stream's own but for `Connection`, which Node sets from
 * the request (a `Connection: close` is honoured, where the stream's `keep-alive` would override it).
 */
export const STREAM_HEAD_HEADERS: Readonly<Record<string, string>> = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-cache, no-transform',
  // Reverse proxies such as nginx would otherwise buffer the stream.
  'X-Accel-Buffering': 'no',
};

/** The head of every event stream (docs/protocol.md, "Opening"). */
export const STREAM_HEADERS: Readonly<Record<string, string>> = {
  ...STREAM_HEAD_HEADERS,
  Connection: 'keep-alive',
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
  /** Events written since the buffer was last seen empty: at most these are lost if it is cut. */
  private unread = 0;

  constructor(
    private readonly res: SseResponse,
    private readonly bufferLimit: number,
    private readonly tally: StreamTally = { events: 0, heartbeats: 0, dropped: 0, cut: 0 },
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
    this.unread = burst.length;
    this.tally.events += burst.length;
  }

  /** Sends an event already formatted with formatSse: one event reaches many streams, serialised once. */
  send(frame: string): void {
    if (this.write(frame)) this.tally.events += 1;
  }

  /** Sends a heartbeat, formatted once for many streams. */
  beat(frame: string): void {
    if (this.write(frame)) this.tally.heartbeats += 1;
  }

  /**
   * Ends the stream politely; the client reconnects with Last-Event-ID. A reader behind, whose
   * events are still buffered, is cut instead: the server's stop would otherwise wait for it
   * (http/drain-connections.ts), and it resumes from its Last-Event-ID all the same.
   */
  end(): void {
    if (!this.isOpen) return;
    this.res.end();
    if (this.res.writableLength > 0) this.cut();
  }

  /** Whether the chunk was written (the stream is open, and the reader not cut for it). */
  private write(chunk: string): boolean {
    if (!this.opened || !this.isOpen) return false;
    if (this.res.writableLength === 0) this.unread = 0;
    this.res.write(chunk);
    this.unread += 1;
    if (this.res.writableLength > this.bufferLimit + this.burstAllowance) {
      this.cut();
      return false;
    }
    return true;
  }

  /** Drops a reader that is behind: it resumes from its Last-Event-ID, so it loses nothing. */
  private cut(): void {
    this.res.destroy();
    this.tally.cut += 1;
    this.tally.dropped += this.unread;
  }
}
