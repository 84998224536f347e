import 'reflect-metadata';
import { createApp } from './app.factory.js';
import { AppConfig, ConfigError } from './config/app-config.js';

/** Starts heygen-api and prints one line with its URL once it accepts requests. */
async function main(): Promise<void> {
  const app = await createApp();
  const { port, host } = app.get(AppConfig);
  app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
  await app.listen(port, host);
  const address = app.getHttpServer().address() as { port: number };
  const shownHost =
    host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  console.log(`heygen-api listening on http://${shownHost}:${address.port}`);
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    console.error(`heygen-api: ${error.message}`);
  } else if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
    console.error(`heygen-api: port already in use: ${(error as Error).message}`);
  } else {
    console.error('heygen-api failed to start:', error);
  }
  process.exit(1);
});
