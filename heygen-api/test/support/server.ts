import { type NestExpressApplication } from '@nestjs/platform-express';
import { type Server, type Socket } from 'node:net';
import { onTestFinished } from 'vitest';
import { createApp } from '../../src/app.factory.js';

/** A heygen-api instance on a random local port, closed when the test finishes. */
export interface TestServer {
  /** Base URL without a trailing slash, e.g. `http://127.0.0.1:41234`. */
  url: string;
  app: NestExpressApplication;
  /** Cuts every open connection, as a network drop would; the server keeps listening. */
  destroyConnections(): void;
  /** Closes the app (idempotent): the shutdown a SIGTERM would trigger. */
  close(): Promise<void>;
}

/** Starts the app from an explicit environment (never process.env) and registers its teardown. */
export async function startServer(env: Record<string, string> = {}): Promise<TestServer> {
  const app = await createApp({
    env: { HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'error', ...env },
  });
  await app.listen(0, '127.0.0.1');
  const server = app.getHttpServer() as Server;
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const { port } = server.address() as { port: number };

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => (closing ??= app.close());
  onTestFinished(close);

  return {
    url: `http://127.0.0.1:${port}`,
    app,
    destroyConnections: () => {
      for (const socket of sockets) socket.destroy();
    },
    close,
  };
}
