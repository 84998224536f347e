import { createServer, connect, type Socket } from 'node:net';

/**
 * What the proxy does. The first three disrupt event streams only (JSON requests pass):
 * - `pass`: forwards everything;
 * - `cut-streams`: destroys open stream connections and answers new stream requests with 503,
 *   like a network that drops long-lived connections;
 * - `stall-streams`: stops forwarding bytes of stream responses without closing anything, like a
 *   dead connection whose socket still looks open (only a heartbeat watchdog can tell);
 *
 * the others are the faults of the library's fault matrix (docs/reliability.md):
 * - `cut-every`: destroys each stream connection `cutEveryMs` after it opened; new ones are let
 *   through, so a client that reconnects gets a fresh stream every time;
 * - `refuse`: resets every new TCP connection as soon as it is accepted and drops the open ones,
 *   like a host whose server is gone or a firewall that rejects;
 * - `error-500`: answers every request itself, streams included, with `500` and a JSON error body
 *   (no `Retry-After`), like a server whose every handler throws;
 * - `garbage`: answers every JSON request itself with `200` and a body that is not JSON
 *   (`<html>oops</html>`, as from a misconfigured gateway); streams pass;
 * - `slow`: delivers every byte of every response `slowMs` late, in order, like an overloaded
 *   server or link; requests still reach the server at once.
 */
export type ProxyMode =
  | 'pass'
  | 'cut-streams'
  | 'stall-streams'
  | 'cut-every'
  | 'refuse'
  | 'error-500'
  | 'garbage'
  | 'slow';

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
  /** How late `slow` delivers responses, in ms. @default 5000 */
  slowMs?: number;
  /** How long a stream lives in `cut-every`, in ms. @default 1000 */
  cutEveryMs?: number;
}

/** Hears a request line (`POST /create?uuid=… HTTP/1.1`) before the request goes anywhere. */
export type RequestListener = (requestLine: string, stream: boolean) => void;

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
  /** Stream connections destroyed by `cut-every`. */
  readonly cutStreams: number;
  /** TCP connections reset by `refuse`. */
  readonly refusedConnections: number;
  /** Requests the proxy answered itself (`error-500`, `garbage`). */
  readonly answeredRequests: number;
  setMode(mode: ProxyMode): void;
  /**
   * Forwards new connections to another server (a restarted one, on another port); open ones stay
   * with the old target.
   */
  setTarget(target: ProxyTarget): void;
  /**
   * Calls `listener` with each request line before the request is forwarded or answered, so a
   * test can act at that very moment (kill the server while a request is in flight). Returns the
   * function that removes it.
   */
  onRequest(listener: RequestListener): () => void;
  /** Stops listening and destroys every connection. */
  close(): Promise<void>;
}

/** A request head starts a chunk from the client: `METHOD /path HTTP/1.1`. */
const REQUEST_LINE = /^[A-Z]+ \S+ HTTP\/1\.[01]\r\n/;
/** Heygen streams are `GET /status` asking for `text/event-stream`. */
const isStreamHead = (head: string): boolean => /^accept:[^\r\n]*text\/event-stream/im.test(head);

/** A complete HTTP/1.1 answer that closes its connection. */
const answer = (status: string, type: string, body: string): string =>
  `HTTP/1.1 ${status}\r\nContent-Type: ${type}\r\nConnection: close\r\n` +
  `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

const REFUSAL = answer(
  '503 Service Unavailable',
  'application/json',
  '{"statusCode":503,"error":"Service Unavailable","code":"PROXY_CUT","message":"Streams are cut"}',
);
const ERROR_500 = answer(
  '500 Internal Server Error',
  'application/json',
  '{"statusCode":500,"error":"Internal Server Error","code":"INTERNAL_ERROR","message":"Proxy error-500"}',
);
const GARBAGE = answer('200 OK', 'text/html', '<html>oops</html>');

interface Pair {
  client: Socket;
  upstream: Socket;
  /** The last request on this connection asked for an event stream. */
  stream: boolean;
  /** The proxy answered, or the pair was dropped: nothing more is forwarded. */
  done: boolean;
  /** When the last delayed chunk is due (`slow`), so that chunks keep their order. */
  dueAt: number;
  /** Ends the stream in `cut-every`. */
  cutTimer?: NodeJS.Timeout;
}

/**
 * Starts a TCP proxy in front of heygen-api that disrupts traffic on demand: event streams only
 * (so a client can fall back to polling), or everything (see {@link ProxyMode}).
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
  target: initialTarget,
  host = '127.0.0.1',
  port = 0,
  slowMs = 5000,
  cutEveryMs = 1000,
}: ProxyOptions): Promise<Proxy> => {
  const pairs = new Set<Pair>();
  const listeners = new Set<RequestListener>();
  /** Deliveries `slow` holds back, cleared on close. */
  const delayed = new Set<NodeJS.Timeout>();
  /** Chunks held while stalling, released when the mode changes. */
  const stalled = new Set<{ pair: Pair; chunk: Buffer }>();
  let target = initialTarget;
  let mode: ProxyMode = 'pass';
  let refused = 0;
  let cut = 0;
  let reset = 0;
  let answered = 0;

  const drop = (pair: Pair): void => {
    pair.done = true;
    clearTimeout(pair.cutTimer);
    pair.client.destroy();
    pair.upstream.destroy();
    pairs.delete(pair);
  };

  /** The proxy answers in place of the server and closes the connection. */
  const reply = (pair: Pair, response: string): void => {
    pair.done = true;
    clearTimeout(pair.cutTimer);
    pair.upstream.destroy();
    pairs.delete(pair);
    pair.client.end(response);
  };

  const scheduleCut = (pair: Pair): void => {
    if (pair.cutTimer || pair.done) return;
    pair.cutTimer = setTimeout(() => {
      cut++;
      drop(pair);
    }, cutEveryMs);
  };

  /** Runs `deliver` now, or `slowMs` late in `slow`; never before an earlier delayed chunk. */
  const toClient = (pair: Pair, deliver: () => void): void => {
    const now = Date.now();
    const at = Math.max(mode === 'slow' ? now + slowMs : now, pair.dueAt);
    if (at <= now) return deliver();
    pair.dueAt = at;
    const timer = setTimeout(() => {
      delayed.delete(timer);
      if (!pair.client.destroyed) deliver();
    }, at - now);
    delayed.add(timer);
  };

  const server = createServer((client) => {
    if (mode === 'refuse') {
      reset++;
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(target.port, target.host);
    const pair: Pair = { client, upstream, stream: false, done: false, dueAt: 0 };
    pairs.add(pair);
    client.on('data', (chunk: Buffer) => {
      if (pair.done) return;
      const text = chunk.toString('latin1');
      if (REQUEST_LINE.test(text)) {
        const head = text.split('\r\n\r\n')[0]!;
        pair.stream = isStreamHead(head);
        for (const listener of listeners)
          listener(head.slice(0, head.indexOf('\r\n')), pair.stream);
        if (pair.done) return;
        if (mode === 'error-500' || (mode === 'garbage' && !pair.stream)) {
          answered++;
          return reply(pair, mode === 'error-500' ? ERROR_500 : GARBAGE);
        }
        if (pair.stream && mode === 'cut-every') scheduleCut(pair);
      }
      if (pair.stream && mode === 'cut-streams') {
        refused++;
        return reply(pair, REFUSAL);
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
      toClient(pair, () => client.write(chunk));
    });
    client.on('error', () => drop(pair));
    upstream.on('error', () => drop(pair));
    client.on('close', () => drop(pair));
    upstream.on('close', () => {
      if (pair.done) return;
      pairs.delete(pair);
      toClient(pair, () => client.end());
    });
  });

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
    get cutStreams() {
      return cut;
    },
    get refusedConnections() {
      return reset;
    },
    get answeredRequests() {
      return answered;
    },
    setMode(next) {
      mode = next;
      for (const pair of pairs) {
        if (mode !== 'cut-every') {
          clearTimeout(pair.cutTimer);
          delete pair.cutTimer;
        }
        if (mode === 'refuse') {
          pair.client.resetAndDestroy();
          drop(pair);
        } else if (pair.stream && mode === 'cut-streams') drop(pair);
        else if (pair.stream && mode === 'cut-every') scheduleCut(pair);
      }
      if (mode !== 'stall-streams') {
        for (const held of stalled) {
          if (!held.pair.client.destroyed) held.pair.client.write(held.chunk);
          held.pair.upstream.resume();
        }
        stalled.clear();
      }
    },
    setTarget(next) {
      target = next;
    },
    onRequest(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const pair of pairs) drop(pair);
        for (const timer of delayed) clearTimeout(timer);
        delayed.clear();
        server.close(() => resolve());
      }),
  };
};
