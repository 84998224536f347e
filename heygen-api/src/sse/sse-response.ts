/**
 * What an event stream needs of its HTTP response: a small part of Node's `ServerResponse`, which
 * every Nest adapter hands over (Express's `res` is one, Fastify's is `reply.raw`), so the stream
 * serves any of them and a unit test can pass a fake.
 */
export interface SseResponse {
  readonly headersSent: boolean;
  readonly destroyed: boolean;
  /** Bytes written but not yet taken by the socket: how far the reader is behind. */
  readonly writableLength: number;
  readonly socket: { setKeepAlive(enable: boolean): unknown } | null;
  writeHead(status: number, headers: Record<string, string>): unknown;
  write(chunk: string): boolean;
  end(): unknown;
  destroy(): unknown;
  on(event: 'close' | 'drain', listener: () => void): unknown;
}

/**
 * The connection a stream's request came on. A stream's resources belong to it: they are freed
 * when it closes, whatever the HTTP layer does with the responses queued on it (issue 18: Node
 * never emits `close` on a response queued behind one that never ends).
 */
export interface SseSocket {
  readonly destroyed: boolean;
  once(event: 'close', listener: () => void): unknown;
  removeListener(event: 'close', listener: () => void): unknown;
}
