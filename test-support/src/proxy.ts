import { createServer, connect, type Socket } from 'node:net';

/**
 * What the proxy does to event streams (JSON requests always pass):
 * - `pass`: forwards everything;
 * - `cut-streams`: destroys open stream connections and answers new stream requests with 503,
 *   like a network that drops long-lived connections;
 * - `stall-streams`: stops forwarding bytes of stream responses without closing anything, like a
 *   dead connection whose socket still looks open (only a heartbeat watchdog can tell).
 */
export type ProxyMode = 'pass' | 'cut-streams' | 'stall-streams';

/** Where the proxy forwards to. */
export interface ProxyTarget {
  host: string;
  port: number;
}

/** Options of {@link startProxy}. */
export interface ProxyOptions {
  target: ProxyTarget;
  /** Interface to listen on. @default '127.0.0.1' */
  host?: string;
  /** Port to listen on; 0 picks a free one. @default 0 */
  port?: number;
}

/** A running disruption proxy. */
export interface Proxy {
  /** Base URL of the proxy, e.g. `http://127.0.0.1:40123`. */
  readonly url: string;
  readonly port: number;
  /** Current mode. */
  readonly mode: ProxyMode;
  /** Stream connections currently open through the proxy. */
  readonly openStreams: number;
  /** Stream requests refused while cutting. */
  readonly refusedStreams: number;
  /** Stream connections whose bytes are being held back while stalling. */
  readonly stalledStreams: number;
  setMode(mode: ProxyMode): void;
  /** Stops listening and destroys every connection. */
  close(): Promise<void>;
}

/** A request head starts a chunk from the client: `METHOD /path HTTP/1.1`. */
const REQUEST_LINE = /^[A-Z]+ \S+ HTTP\/1\.[01]\r\n/;
/** Heygen streams are `GET /status` asking for `text/event-stream`. */
const isStreamHead = (head: string): boolean => /^accept:[^\r\n]*text\/event-stream/im.test(head);

const REFUSAL_BODY =
  '{"statusCode":503,"error":"Service Unavailable","code":"PROXY_CUT","message":"Streams are cut"}';
const REFUSAL =
  'HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nConnection: close\r\n' +
  `Content-Length: ${REFUSAL_BODY.length}\r\n\r\n${REFUSAL_BODY}`;

interface Pair {
  client: Socket;
  upstream: Socket;
  /** The last request on this connection asked for an event stream. */
  stream: boolean;
}

/**
 * Starts a TCP proxy in front of heygen-api that can disrupt event streams on demand, while
 * JSON requests keep working (so a client can fall back to polling).
 *
 * It looks at each request head a client sends (keep-alive connections may carry a stream after
 * JSON requests) to tell stream connections from the others. A head split across TCP chunks is
 * classified by its first chunk, which holds the request line and, in practice, every header.
 *
 * @example
 * ```ts
 * const proxy = await startProxy({ target: { host: '127.0.0.1', port: 3000 } });
 * proxy.setMode('cut-streams');
 * await proxy.close();
 * ```
 */
export const startProxy = async ({
  target,
  host = '127.0.0.1',
  port = 0,
}: ProxyOptions): Promise<Proxy> => {
  const pairs = new Set<Pair>();
  let mode: ProxyMode = 'pass';
  let refused = 0;

  const drop = (pair: Pair): void => {
    pair.client.destroy();
    pair.upstream.destroy();
    pairs.delete(pair);
  };

  const server = createServer((client) => {
    const upstream = connect(target.port, target.host);
    const pair: Pair = { client, upstream, stream: false };
    pairs.add(pair);
    client.on('data', (chunk: Buffer) => {
      const text = chunk.toString('latin1');
      if (REQUEST_LINE.test(text)) pair.stream = isStreamHead(text.split('\r\n\r\n')[0]!);
      if (pair.stream && mode === 'cut-streams') {
        refused++;
        client.end(REFUSAL);
        upstream.destroy();
        pairs.delete(pair);
        return;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (pair.stream && mode === 'stall-streams') {
        // Hold the bytes back; TCP backpressure then reaches the server, like a dead link.
        upstream.pause();
        stalled.add({ pair, chunk });
        return;
      }
      client.write(chunk);
    });
    client.on('error', () => drop(pair));
    upstream.on('error', () => drop(pair));
    client.on('close', () => drop(pair));
    upstream.on('close', () => {
      client.end();
      pairs.delete(pair);
    });
  });

  /** Chunks held while stalling, released when the mode changes. */
  const stalled = new Set<{ pair: Pair; chunk: Buffer }>();

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const address = server.address();
  const actual = typeof address === 'object' && address ? address.port : port;

  return {
    url: `http://${host}:${actual}`,
    port: actual,
    get mode() {
      return mode;
    },
    get openStreams() {
      return [...pairs].filter((pair) => pair.stream).length;
    },
    get refusedStreams() {
      return refused;
    },
    get stalledStreams() {
      return stalled.size;
    },
    setMode(next) {
      mode = next;
      if (mode === 'cut-streams') {
        for (const pair of pairs) if (pair.stream) drop(pair);
      }
      if (mode !== 'stall-streams') {
        for (const held of stalled) {
          if (!held.pair.client.destroyed) held.pair.client.write(held.chunk);
          held.pair.upstream.resume();
        }
        stalled.clear();
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const pair of pairs) drop(pair);
        server.close(() => resolve());
      }),
  };
};
