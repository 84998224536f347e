import { type INestApplication } from '@nestjs/common';
import { trackConnections, type ConnectionTracker } from 'heygen-test-support';
import { type Server } from 'node:net';
import { onTestFinished } from 'vitest';
import { createApp } from '../../src/app.factory.js';
import { currentAdapter } from './adapters.js';

/**
 * A heygen-api instance in this process on a random local port, closed when the test finishes.
 * In process, unlike the other packages' built servers, so that tests can reach its providers; on
 * the adapter of the running suite (support/adapters.ts) unless `env` names one.
 */
export interface TestServer extends ConnectionTracker {
  /** Base URL without a trailing slash, e.g. `http://127.0.0.1:41234`. */
  url: string;
  app: INestApplication;
  /** Closes the app (idempotent): the shutdown a SIGTERM would trigger. */
  close(): Promise<void>;
}

/** Starts the app from an explicit environment (never process.env) and registers its teardown. */
export async function startServer(env: Record<string, string> = {}): Promise<TestServer> {
  const app = await createApp({
    env: {
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'error',
      HTTP_ADAPTER: currentAdapter(),
      ...env,
    },
  });
  await app.listen(0, '127.0.0.1');
  const server = app.getHttpServer() as Server;
  const { destroyConnections } = trackConnections(server);
  const { port } = server.address() as { port: number };

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => (closing ??= app.close());
  onTestFinished(close);

  return { url: `http://127.0.0.1:${port}`, app, destroyConnections, close };
}
