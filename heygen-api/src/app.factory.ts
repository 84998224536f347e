import { ValidationPipe, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { type NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { AppModule } from './app.module.js';
import { AppConfig } from './config/app-config.js';
import { type ConfigOptions } from './config/config.module.js';
import { DomainError } from './errors/domain-error.js';

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
  app.disable('x-powered-by');

  app.useGlobalPipes(
    new ValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      // Route parameters are parsed by their own pipes, which must see the raw strings.
      transform: false,
      exceptionFactory: (errors) =>
        new DomainError(
          'INVALID_BODY',
          errors.flatMap((error) => Object.values(error.constraints ?? {})).join('; ') ||
            'The request body is not valid',
        ),
    }),
  );
  app.enableCors({
    origin: config.corsOrigins === true ? '*' : config.corsOrigins,
    exposedHeaders: EXPOSED_HEADERS,
    allowedHeaders: ALLOWED_HEADERS,
    maxAge: 600,
  });
  setUpOpenApi(app);
  return app;
}

/** The OpenAPI document of the JSON endpoints, served at /docs (page) and /docs/json. */
export function setUpOpenApi(app: INestApplication): void {
  const document = SwaggerModule.createDocument(
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
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs/json' });
}
