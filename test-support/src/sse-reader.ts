import { request, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { onTestFinished } from 'vitest';
import { createFrameParser, type SseFrame } from './sse-frames.js';

/** A named event with its `data:` parsed as JSON. */
export interface SseEvent<T = unknown> {
  id?: string;
  event: string;
  data: T;
}

const WAIT_MS = 5000;

/**
 * An event stream read over raw node:http, frame by frame, with the socket in the test's hands:
 * pause it (a slow reader), destroy it (a network drop), or wait for the server to end it.
 */
export class RawSseStream {
  /** Every frame received so far, in order. */
  readonly frames: SseFrame[] = [];
  /** The whole body as text (for an error answer, its JSON). */
  raw = '';
  /** The `id:` of the latest frame that carried one: what a client echoes as Last-Event-ID. */
  lastEventId: string | undefined;
  /** Resolves once the response ended or its socket closed, for whatever reason. */
  readonly ended: Promise<void>;
  private cursor = 0;
  private closed = false;
  private wake: (() => void) | undefined;

  constructor(private readonly res: IncomingMessage) {
    const parser = createFrameParser((frame) => {
      if (frame.id !== undefined) this.lastEventId = frame.id;
      this.frames.push(frame);
      this.wake?.();
    });
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      this.raw += chunk;
      parser.feed(chunk);
    });
    this.ended = new Promise((resolve) => {
      const done = (): void => {
        this.closed = true;
        this.wake?.();
        resolve();
      };
      res.on('end', done);
      res.on('close', done);
      res.on('error', done);
    });
  }

  get status(): number {
    return this.res.statusCode ?? 0;
  }

  get headers(): IncomingHttpHeaders {
    return this.res.headers;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** The next frame not yet read, waiting for it if need be. */
  async next(timeoutMs = WAIT_MS): Promise<SseFrame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const frame = this.frames[this.cursor];
      if (frame) {
        this.cursor += 1;
        return frame;
      }
      if (this.closed) throw new Error(`stream ended; frames so far: ${this.describe()}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no frame within ${timeoutMs} ms; frames: ${this.describe()}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }

  /** Skips frames until the next event named `name`, and returns it with its data parsed. */
  async nextEvent<T = unknown>(name: string, timeoutMs = WAIT_MS): Promise<SseEvent<T>> {
    for (;;) {
      const frame = await this.next(timeoutMs);
      if (frame.event === name) return toEvent<T>(frame);
    }
  }

  /** The next named event other than a heartbeat (skips retry-only frames and heartbeats). */
  async nextNonHeartbeat(timeoutMs = WAIT_MS): Promise<SseEvent> {
    for (;;) {
      const frame = await this.next(timeoutMs);
      if (frame.event !== undefined && frame.event !== 'heartbeat') return toEvent(frame);
    }
  }

  /** The error body of a stream the server refused. */
  async json<T = unknown>(): Promise<T> {
    await this.ended;
    return JSON.parse(this.raw) as T;
  }

  /** Stops reading: the server's writes back up into its buffer, as with a slow client. */
  pause(): void {
    this.res.pause();
    this.res.socket.pause();
  }

  resume(): void {
    this.res.socket.resume();
    this.res.resume();
  }

  /** Drops the connection without a goodbye, as a network failure would. */
  destroy(): void {
    this.res.destroy();
    this.res.socket.destroy();
  }

  private describe(): string {
    return JSON.stringify(this.frames.slice(-10));
  }
}

function toEvent<T>(frame: SseFrame): SseEvent<T> {
  return {
    ...(frame.id !== undefined && { id: frame.id }),
    event: frame.event ?? 'message',
    data: JSON.parse(frame.data ?? 'null') as T,
  };
}

/**
 * Opens `GET url` with `Accept: text/event-stream` on its own socket; resolves once the response
 * head arrived (any status). The stream is destroyed when the test finishes.
 */
export function openSse(url: string, headers: Record<string, string> = {}): Promise<RawSseStream> {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      headers: { Accept: 'text/event-stream', ...headers },
      agent: false,
    });
    req.on('response', (res) => {
      const stream = new RawSseStream(res);
      onTestFinished(() => stream.destroy());
      resolve(stream);
    });
    req.on('error', (error) =>
      reject(new Error(`GET ${url}: ${error.message} before any response head`, { cause: error })),
    );
    req.end();
  });
}
