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
