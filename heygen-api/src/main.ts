import 'reflect-metadata';
import { type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { createApp } from './app.factory.js';
import { AppConfig, ConfigError } from './config/app-config.js';
import { limitHeapGrowth } from './heap-growth.js';
import { ROOT_LOGGER } from './logging/logging.module.js';
import { PinoNestLogger } from './logging/pino-nest-logger.js';

/** HOST as the configuration read it, `.env` included, for the error a bad one gets. */
let configuredHost: string | undefined;

/** Starts heygen-api and prints one line with its URL once it accepts requests. */
async function main(): Promise<void> {
  limitHeapGrowth();
  const app = await createApp();
  const { port, host } = app.get(AppConfig);
  configuredHost = host;
  app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
  await app.init();
  // Nest logs a failed listen before rethrowing it; the catch below prints it once, on one line.
  app.useLogger(false);
  await app.listen(port, host);
  app.useLogger(new PinoNestLogger(app.get(ROOT_LOGGER)));
  const address = (app.getHttpServer() as Server).address() as AddressInfo;
  const shownHost =
    host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  console.log(`heygen-api listening on http://${shownHost}:${address.port}`);
}

/** Errors of `listen` that come from a HOST it cannot bind: named as such, on one line. */
const HOST_ERRORS = new Set([
  'EADDRNOTAVAIL',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_FAIL',
  'EAFNOSUPPORT',
]);

// One line naming the variable, and exit 1: no stack trace for a configuration mistake (issue 18).
main().catch((error: unknown) => {
  const { code, message } = error as NodeJS.ErrnoException;
  if (error instanceof ConfigError) {
    console.error(`heygen-api: ${error.message}`);
  } else if (code === 'EADDRINUSE') {
    console.error(`heygen-api: PORT: the port is already in use (${message})`);
  } else if (code === 'EACCES') {
    console.error(`heygen-api: PORT: not allowed to listen on this port (${message})`);
  } else if (code !== undefined && HOST_ERRORS.has(code)) {
    console.error(
      `heygen-api: HOST=${JSON.stringify(configuredHost)}: cannot listen on it (${code})`,
    );
  } else {
    console.error('heygen-api failed to start:', error);
  }
  process.exit(1);
});
