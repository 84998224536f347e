import { connect, createServer, type Socket } from 'node:net';

/** An instance behind the proxy (a RunningServer is one). */
export interface Backend {
  host: string;
  port: number;
}

/** A request the proxy forwarded, and to which instance. */
export interface ForwardedRequest {
  /** `GET /status?uuid=… HTTP/1.1` */
  line: string;
  /** The request's head: its line and headers. */
  head: string;
  /** It asked for an event stream. */
  stream: boolean;
  backend: Backend;
}

/** A running round-robin proxy. */
export interface RoundRobinProxy {
  /** e.g. `http://127.0.0.1:40123`: what clients are given as the deployment's URL. */
  readonly url: string;
  /** Every request forwarded so far, in order. */
  readonly requests: readonly ForwardedRequest[];
  /** Sends new connections to these instances from now on (restarted ones, on new ports). */
  setBackends(backends: readonly Backend[]): void;
  /** Stops listening and drops every connection; idempotent. */
  close(): Promise<void>;
}

/** A chunk from the client that starts a request: `METHOD /path HTTP/1.1`. */
const REQUEST_LINE = /^[A-Z]+ \S+ HTTP\/1\.[01]\r\n/;

/**
 * A TCP load balancer for tests: each new connection goes to the next instance in turn, and to the
 * one after when that one refuses (a killed instance), as a balancer with passive health checks
 * does (nginx's `proxy_next_upstream error`). A connection stays with its instance, so a client
 * reaches several instances only over several connections.
 */
export async function startRoundRobinProxy(initial: readonly Backend[]): Promise<RoundRobinProxy> {
  let backends = [...initial];
  let turn = 0;
  const requests: ForwardedRequest[] = [];
  const sockets = new Set<Socket>();
  const track = (socket: Socket): void => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  };

  /** Connects `client` to the next instance that accepts, trying each at most once. */
  const forward = (client: Socket, triesLeft: number): void => {
    const backend = backends[turn++ % backends.length];
    if (!backend || triesLeft === 0) {
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(backend.port, backend.host);
    track(upstream);
    upstream.once('error', () => forward(client, triesLeft - 1));
    upstream.once('connect', () => {
      upstream.removeAllListeners('error');
      if (client.destroyed) return void upstream.destroy();
      client.on('data', (chunk: Buffer) => {
        const text = chunk.toString('latin1');
        if (REQUEST_LINE.test(text)) {
          const head = text.split('\r\n\r\n')[0]!;
          const stream = /^accept:[^\r\n]*text\/event-stream/im.test(head);
          requests.push({ line: head.slice(0, head.indexOf('\r\n')), head, stream, backend });
        }
        upstream.write(chunk);
      });
      upstream.on('data', (chunk: Buffer) => client.write(chunk));
      // A killed instance resets its connections: its clients see their connection end.
      upstream.on('error', () => client.end());
      upstream.on('end', () => client.end());
      upstream.on('close', () => client.end());
      client.on('end', () => upstream.end());
      client.on('close', () => upstream.destroy());
      client.resume();
    });
  };

  const server = createServer((client) => {
    track(client);
    client.pause();
    client.on('error', () => client.destroy());
    forward(client, backends.length);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as { port: number };

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    }));

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    setBackends(next) {
      backends = [...next];
    },
    close,
  };
}
