import { type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { type NestExpressApplication } from '@nestjs/platform-express';
import { type Server } from 'node:http';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { AppModule } from './app.module.js';
import { AppConfig } from './config/app-config.js';
import { type ConfigOptions } from './config/config.module.js';

/** Headers a browser script may read: the poll hint most of all. */
const EXPOSED_HEADERS = ['Location', 'X-Next-Poll-Ms', 'Idempotent-Replayed', 'Retry-After'];
const ALLOWED_HEADERS = ['Authorization', 'Content-Type', 'Idempotency-Key', 'Last-Event-ID'];

/** Builds the configured application, not yet listening: main.ts and the tests share it. */
export async function createApp(options: ConfigOptions = {}): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(options), {
    // Silent until the configuration says how loud to be; start-up errors are thrown to main.ts,
    // which prints them once, plainly.
    logger: false,
    abortOnError: false,
    // Streams never end by themselves: close must cut them, or shutdown would wait forever.
    forceCloseConnections: true,
    bodyParser: false,
  });
  const config = app.get(AppConfig);
  app.useLogger(config.logLevels);
  hardenServer(app.getHttpServer(), config);
  app.disable('x-powered-by');

  // No ETag: a job's status is never served from a cache, and hashing every answer cost
  // throughput (issue 6).
  app.set('etag', false);
  app.enableCors({
    origin: config.corsOrigins === true ? '*' : config.corsOrigins,
    exposedHeaders: EXPOSED_HEADERS,
    allowedHeaders: ALLOWED_HEADERS,
    maxAge: 600,
  });
  setUpOpenApi(app);
  return app;
}

/**
 * Node's own limits on how long a client may take to send a request (issue 18; docs/design.md,
 * "Limits"). `requestTimeout` covers receiving the request only, headers and body, never the
 * response: an event stream, whose request is a few hundred bytes, may stay open for days.
 */
function hardenServer(server: Server, config: AppConfig): void {
  server.headersTimeout = config.headersTimeoutMs;
  server.requestTimeout = config.requestTimeoutMs;
  server.maxRequestsPerSocket = config.maxRequestsPerSocket;
  // Node checks both timeouts on this interval (default 30 s), read when the server starts
  // listening; Nest creates the server without options, so it is set on the instance, before
  // listen, or a 1 s headers timeout would take 30 s to act.
  (server as Server & { connectionsCheckingInterval: number }).connectionsCheckingInterval =
    Math.min(1000, config.headersTimeoutMs);
}

/** The OpenAPI document of the JSON endpoints (also exported to docs/openapi.json by openapi.ts). */
export function createOpenApiDocument(app: INestApplication): OpenAPIObject {
  return SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('heygen-api')
      .setDescription(
        'Simulated long-running jobs. The event stream (GET /status with Accept: text/event-stream) is described in docs/protocol.md.',
      )
      .setVersion('0.1.0')
      .addBearerAuth()
      .build(),
  );
}

/** Serves the OpenAPI document at /docs (page) and /docs/json; returns it. */
export function setUpOpenApi(app: INestApplication): OpenAPIObject {
  const document = createOpenApiDocument(app);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs/json' });
  return document;
}
