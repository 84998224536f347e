import { type Server, type ServerResponse } from 'node:http';

/** How often connections that went idle during the drain are closed. */
const IDLE_CHECK_MS = 25;

/**
 * A graceful stop of the HTTP server: it stops accepting connections, closes the idle ones, and
 * lets every request in flight finish, for at most `graceMs`, closing each connection once its
 * answer is sent. What is still open after that is cut by the adapter's close (Nest's
 * `forceCloseConnections`). It runs after every `beforeApplicationShutdown` hook, so streams and
 * held waits have already ended, and before `onApplicationShutdown` closes Redis, which a request
 * in flight may still need. Without it, a rolling restart cut requests mid-way: a create whose
 * body was arriving got a reset, and a proxy answered 502 for it (review of 2026-11-30).
 */
export async function drainConnections(server: Server, graceMs: number): Promise<void> {
  if (!server.listening) return;
  // An answer sent from now on closes its connection: a keep-alive client moves on at once.
  server.prependListener('request', (_req, res: ServerResponse) => {
    if (!res.headersSent) res.setHeader('Connection', 'close');
  });
  let timer: NodeJS.Timeout | undefined;
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  const graceOver = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
  // A request that was in flight at close() was told nothing: its connection is closed once idle.
  const idle = setInterval(() => server.closeIdleConnections(), IDLE_CHECK_MS);
  await Promise.race([closed, graceOver]);
  clearInterval(idle);
  clearTimeout(timer);
}
