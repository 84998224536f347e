import { connect, createServer, type Socket } from 'node:net';

/** An instance behind the balancer. */
export interface Backend {
  /** `api-1`…: how the logs and the report name it. */
  name: string;
  host: string;
  port: number;
}

/** Hears each request head the balancer forwards: its request line and the instance it went to. */
export type ForwardListener = (requestLine: string, stream: boolean, instance: string) => void;

/** The run's proxy when it starts several instances: one URL, connections spread over them. */
export interface Balancer {
  /** e.g. `http://127.0.0.1:40123`: the one URL the library talks to. */
  readonly url: string;
  /** The instances of the event streams open now, oldest first. */
  openStreams(): string[];
  /**
   * Resolves once an event stream is open (at once when one is), or after `timeoutMs` with none:
   * the library may be between two streams, its next one on the way.
   */
  streamOpen(timeoutMs: number): Promise<boolean>;
  /** Takes an instance out of the rotation (before it is killed): no new connection goes to it. */
  remove(name: string): void;
  /** Puts an instance (back) into the rotation, on its (new) address. */
  add(backend: Backend): void;
  /** Returns the function that removes the listener. */
  onForward(listener: ForwardListener): () => void;
  /** Stops listening and drops every connection; safe to call more than once. */
  close(): Promise<void>;
}

/** A chunk from the client that starts a request: `METHOD /path HTTP/1.1`. */
const REQUEST_LINE = /^[A-Z]+ \S+ HTTP\/1\.[01]\r\n/;
/** heygen streams are `GET /status` asking for `text/event-stream`. */
const isStreamHead = (head: string): boolean => /^accept:[^\r\n]*text\/event-stream/im.test(head);

interface Pair {
  client: Socket;
  upstream: Socket;
  instance: string;
  /** The last request on this connection asked for an event stream. */
  stream: boolean;
}

/**
 * A round-robin TCP proxy: each new connection goes to the next instance in the rotation, and to
 * the one after when that one refuses, as a balancer with passive health checks does. A connection
 * stays with its instance, so a keep-alive client reaches several instances over several
 * connections only. It reads each request head to know which connection carries an event stream,
 * and so which instance holds the client's stream.
 */
export async function startBalancer(initial: readonly Backend[]): Promise<Balancer> {
  let rotation = [...initial];
  let turn = 0;
  const pairs = new Set<Pair>();
  const pending = new Set<Socket>();
  const listeners = new Set<ForwardListener>();

  const drop = (pair: Pair): void => {
    pairs.delete(pair);
    pair.client.destroy();
    pair.upstream.destroy();
  };

  const pipe = (client: Socket, upstream: Socket, backend: Backend): void => {
    const pair: Pair = { client, upstream, instance: backend.name, stream: false };
    pairs.add(pair);
    client.on('data', (chunk: Buffer) => {
      const text = chunk.toString('latin1');
      if (REQUEST_LINE.test(text)) {
        const head = text.split('\r\n\r\n')[0]!;
        pair.stream = isStreamHead(head);
        const line = head.slice(0, head.indexOf('\r\n'));
        for (const listener of listeners) listener(line, pair.stream, backend.name);
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    client.on('error', () => drop(pair));
    client.on('close', () => drop(pair));
    // A killed instance's connections close or reset: its clients see their connection end.
    upstream.on('error', () => drop(pair));
    upstream.on('close', () => {
      pairs.delete(pair);
      client.end();
    });
    client.resume();
  };

  /** Connects `client` to the next instance that accepts, trying each at most once. */
  const forward = (client: Socket, triesLeft: number): void => {
    const backend = rotation[turn++ % Math.max(rotation.length, 1)];
    if (!backend || triesLeft <= 0 || client.destroyed) {
      pending.delete(client);
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(backend.port, backend.host);
    upstream.once('error', () => forward(client, triesLeft - 1));
    upstream.once('connect', () => {
      pending.delete(client);
      upstream.removeAllListeners('error');
      if (client.destroyed) return void upstream.destroy();
      pipe(client, upstream, backend);
    });
  };

  const server = createServer((client) => {
    client.pause();
    pending.add(client);
    client.on('error', () => client.destroy());
    forward(client, rotation.length);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as { port: number };

  let closing: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    openStreams: () => [...pairs].filter((pair) => pair.stream).map((pair) => pair.instance),
    remove(name) {
      rotation = rotation.filter((backend) => backend.name !== name);
    },
    add(backend) {
      rotation = [...rotation.filter((other) => other.name !== backend.name), backend].sort(
        (a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }),
      );
    },
    streamOpen(timeoutMs) {
      if ([...pairs].some((pair) => pair.stream)) return Promise.resolve(true);
      return new Promise((resolve) => {
        const settle = (open: boolean): void => {
          clearTimeout(timer);
          listeners.delete(listener);
          resolve(open);
        };
        const listener: ForwardListener = (_line, stream) => {
          if (stream) settle(true);
        };
        const timer = setTimeout(() => settle(false), timeoutMs);
        listeners.add(listener);
      });
    },
    onForward(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        for (const pair of pairs) drop(pair);
        for (const client of pending) client.destroy();
        server.close(() => resolve());
      })),
  };
}
