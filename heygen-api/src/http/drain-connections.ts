import { type Server, type ServerResponse } from 'node:http';
import { type Socket } from 'node:net';
import { responseInFlight } from './raw.js';

/** How often connections that went idle during the drain are closed. */
const IDLE_CHECK_MS = 25;

/**
 * The server's open connections, tracked from now on: at a stop, each one's request in flight is
 * told to close its connection. One listener per connection, none per request.
 */
export function trackConnections(server: Server): ReadonlySet<Socket> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  return sockets;
}

/**
 * A graceful stop of the HTTP server: it stops accepting connections, closes the idle ones, and
 * lets every request in flight finish, for at most `graceMs`, closing each connection once its
 * answer is sent. What is still open after that is cut by the adapter's close (Nest's
 * `forceCloseConnections`). It runs after every `beforeApplicationShutdown` hook, so streams and
 * held waits have already ended, and before `onApplicationShutdown` closes Redis, which a request
 * in flight may still need. Without it, a rolling restart cut requests mid-way: a create whose
 * body was arriving got a reset, and a proxy answered 502 for it (review of 2026-11-30).
 *
 * Every answer from then on says `Connection: close`, those of the requests in flight included: a
 * keep-alive client told nothing would send its next request on a connection about to close, and
 * get a reset instead of an answer (review of 2026-12-01).
 */
export async function drainConnections(
  server: Server,
  sockets: ReadonlySet<Socket>,
  graceMs: number,
): Promise<void> {
  if (!server.listening) return;
  for (const socket of sockets) {
    const res = responseInFlight(socket);
    if (res && !res.headersSent) res.setHeader('Connection', 'close');
  }
  server.prependListener('request', (_req, res: ServerResponse) => {
    if (!res.headersSent) res.setHeader('Connection', 'close');
  });
  let timer: NodeJS.Timeout | undefined;
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  const graceOver = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
  /** Connections that had sent nothing at the last check. */
  let silent = new Set<Socket>();
  const idle = setInterval(() => {
    // A request whose answer went out before the stop: its connection is closed once idle.
    server.closeIdleConnections();
    // So is one that has sent nothing (a browser's preconnect, a balancer's pool), which Node does
    // not count as idle: it held every stop for the whole grace (review of 2026-12-01). Silent at
    // two checks in a row: a request already in the kernel's buffer is read between them.
    const stillSilent = new Set<Socket>();
    for (const socket of sockets) {
      if (socket.bytesRead !== 0 || responseInFlight(socket)) continue;
      if (silent.has(socket)) socket.destroy();
      else stillSilent.add(socket);
    }
    silent = stillSilent;
  }, IDLE_CHECK_MS);
  await Promise.race([closed, graceOver]);
  clearInterval(idle);
  clearTimeout(timer);
}
