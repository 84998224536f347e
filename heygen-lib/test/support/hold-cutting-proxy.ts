import { connect, createServer, type Socket } from 'node:net';
import type { ProxyTarget } from 'heygen-test-support';

/**
 * What the proxy does to a held request (one that asks `?wait=`), `afterMs` after it
 * forwarded it: `drop` closes the connection (a proxy or load balancer whose read timeout is
 * shorter than the wait, a NAT that forgets the connection); `504` answers `504 Gateway Timeout`
 * itself (nginx's `proxy_read_timeout`); `pass` lets it through.
 */
export type HoldCut = 'drop' | '504' | 'pass';

/** A proxy in front of heygen-api that cuts held requests; see {@link startHoldCuttingProxy}. */
export interface HoldCuttingProxy {
  readonly url: string;
  /** Held requests seen, and how many of them it cut. */
  readonly held: number;
  readonly cut: number;
  /** Called with each held request's line (`GET /status?… HTTP/1.1`) before it is forwarded. */
  onHeld?: ((requestLine: string) => void) | undefined;
  /** Forwards new connections to another server; open ones stay with the old one. */
  setTarget(target: ProxyTarget): void;
  close(): Promise<void>;
}

const GATEWAY_TIMEOUT =
  'HTTP/1.1 504 Gateway Timeout\r\nContent-Type: application/json\r\nConnection: close\r\n' +
  'Content-Length: 46\r\n\r\n{"statusCode":504,"message":"Gateway Timeout"}';

/**
 * Starts a TCP proxy that forwards everything to `target`, and cuts every held request
 * (`?wait=`) `afterMs` after it forwarded it, as `how` says. Requests are told apart by the
 * first chunk of their head, which holds the request line and, in practice, every header.
 */
export const startHoldCuttingProxy = async (
  target: ProxyTarget,
  how: HoldCut,
  afterMs = 0,
): Promise<HoldCuttingProxy> => {
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let upstreamTarget = target;
  let held = 0;
  let cut = 0;

  const server = createServer((client) => {
    const upstream = connect(upstreamTarget.port, upstreamTarget.host);
    sockets.add(client).add(upstream);
    const drop = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('data', (chunk: Buffer) => {
      const head = chunk.toString('latin1');
      if (/^[A-Z]+ \S+[?&]wait=\d+\S* HTTP\/1\.[01]\r\n/.test(head)) {
        held++;
        proxy.onHeld?.(head.slice(0, head.indexOf('\r\n')));
        if (how !== 'pass') {
          const timer = setTimeout(() => {
            timers.delete(timer);
            cut++;
            if (how === '504') {
              upstream.destroy();
              client.end(GATEWAY_TIMEOUT);
            } else drop();
          }, afterMs);
          timers.add(timer);
        }
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    for (const socket of [client, upstream]) {
      socket.on('error', drop);
      socket.on('close', () => {
        sockets.delete(socket);
        drop();
      });
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  const proxy: HoldCuttingProxy = {
    url: `http://127.0.0.1:${port}`,
    get held() {
      return held;
    },
    get cut() {
      return cut;
    },
    setTarget(next) {
      upstreamTarget = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
  return proxy;
};
