import { type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter, type NestExpressApplication } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { existsSync, readFileSync } from 'node:fs';
import { type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type Socket } from 'node:net';
import { resolve } from 'node:path';
import { parseEnv } from 'node:util';
import { type Logger } from 'pino';
import { AppModule } from './app.module.js';
import {
  AppConfig,
  ConfigError,
  parseConfig,
  parseHttpAdapter,
  parseTrustProxy,
  type HttpAdapter,
  type TrustProxy,
} from './config/app-config.js';
import { type ConfigOptions } from './config/config.module.js';
import { ApiKeys } from './auth/api-keys.js';
import { answerWithError } from './http/api-exception.filter.js';
import { answerClientError, refuseConnect } from './http/client-error.js';
import { CorsPolicy } from './http/cors.js';
import { drainConnections, trackConnections } from './http/drain-connections.js';
import { FirstAnswers } from './http/first-answers.js';
import { trustFunction } from './http/trust-proxy.js';
import { rawRequest, takeOverResponse } from './http/raw.js';
import { ROOT_LOGGER } from './logging/logging.module.js';
import { PinoNestLogger } from './logging/pino-nest-logger.js';
import { installRequestLog } from './logging/request-log.js';
import { instrumentHttp, type HttpDurations } from './metrics/http-metrics.js';
import { setUpOpenApi } from './openapi-document.js';

/**
 * Longest path parameter Fastify's router matches (its default, 100, answers a longer job id 404
 * where Express answers 400 INVALID_JOB_ID). A request line is bounded by Node's header size anyway.
 */
const MAX_PARAM_LENGTH = 16_384;

/** Builds the configured application, not yet listening: main.ts and the tests share it. */
export async function createApp(options: ConfigOptions = {}): Promise<INestApplication> {
  // The environment is read once, here: the adapter must be chosen before the application exists,
  // and every module then reads the same variables.
  const env = options.env ?? { ...readEnvFile(), ...process.env };
  const module = AppModule.forRoot({ ...options, env });
  // Fastify's router refuses a path it cannot decode before any hook: its `frameworkErrors` hands
  // that to the first answers too, which exist once the configuration is read (installFirstAnswers).
  // So are the metrics, which count those answers too (docs/metrics.md).
  const early: { answers?: FirstAnswers; durations?: HttpDurations } = {};
  // Refused by Node's parser before any route: counted, with no duration to tell (its start is
  // unknown).
  const clientError = (error: NodeJS.ErrnoException, socket: Socket): void => {
    const status = answerClientError(error, socket);
    if (status !== undefined) early.durations?.observe(undefined, 'other', status, 0);
  };
  const app =
    chooseAdapter(env) === 'fastify'
      ? await NestFactory.create<NestFastifyApplication>(
          module,
          newFastifyAdapter(
            parseTrustProxy(env),
            (error, request, reply) => {
              const req = rawRequest(request);
              const res = takeOverResponse(reply);
              if (!early.answers?.apply(req, res)) answerWithError(error, req, res);
              early.durations?.observe(undefined, req.method ?? 'other', res.statusCode, 0);
            },
            clientError,
          ),
          NEST_OPTIONS,
        )
      : await NestFactory.create<NestExpressApplication>(
          module,
          new ExpressAdapter(),
          NEST_OPTIONS,
        );
  const config = app.get(AppConfig);
  // Nest's own messages go to pino from here on (logging/, issue 13); the level is pino's.
  const logger: Logger = app.get(ROOT_LOGGER);
  app.useLogger(new PinoNestLogger(logger));
  const server: Server = app.getHttpServer();
  hardenServer(server, config);
  drainBeforeClose(app, config.shutdownGraceMs);
  installRequestLog(server, logger, config.trustProxy);
  // Before the routes exist, so that every route is timed (docs/metrics.md).
  if (config.metrics) early.durations = instrumentHttp(app, config.httpAdapter);
  if (config.httpAdapter === 'fastify') {
    acceptRawBodies(app as NestFastifyApplication);
  } else {
    const express = app as NestExpressApplication;
    express.disable('x-powered-by');
    // No ETag: a job's status is never served from a cache, and hashing every answer cost
    // throughput (issue 6). Fastify sends none.
    express.set('etag', false);
    express.set('trust proxy', trustFunction(config.trustProxy));
    // Fastify installs its handler from its options; Node's own answers a bad request with no body.
    server.on('clientError', clientError);
  }
  server.on('connect', (_req: IncomingMessage, socket: Socket) => {
    early.durations?.observe(undefined, 'CONNECT', refuseConnect(socket), 0);
  });
  early.answers = installFirstAnswers(app, config);
  setUpOpenApi(app);
  return app;
}

/** The adapter's close, which cuts every connection, waits for the requests in flight first. */
function drainBeforeClose(app: INestApplication, graceMs: number): void {
  const adapter = app.getHttpAdapter();
  const server = app.getHttpServer() as Server;
  const sockets = trackConnections(server);
  const close = adapter.close.bind(adapter) as () => Promise<unknown>;
  adapter.close = async (): Promise<unknown> => {
    await drainConnections(server, sockets, graceMs);
    return close();
  };
}

const NEST_OPTIONS = {
  // Silent until the configuration says how loud to be; start-up errors are thrown to main.ts,
  // which prints them once, plainly.
  logger: false,
  abortOnError: false,
  // What a graceful drain left open (drainBeforeClose) is cut: a slow reader's stream, say.
  forceCloseConnections: true,
  // Bodies are read by our own guard (http/json-body-parser.ts), after the API key is checked.
  bodyParser: false,
} as const;

/**
 * HTTP_ADAPTER, read before the application exists (the rest of the configuration is read by
 * AppConfigModule); a bad value is the same one-line ConfigError as any other.
 */
function chooseAdapter(env: Record<string, string | undefined>): HttpAdapter {
  const problems: string[] = [];
  const adapter = parseHttpAdapter(env, problems);
  // The whole configuration, so that the line names every bad variable, not this one alone.
  if (problems.length > 0) parseConfig(env);
  return adapter;
}

/** The `.env` file of the working directory; the process environment wins over it. */
function readEnvFile(): Record<string, string> {
  const path = resolve(process.cwd(), '.env');
  if (!existsSync(path)) return {};
  try {
    return parseEnv(readFileSync(path, 'utf8')) as Record<string, string>;
  } catch (error) {
    // Unreadable (its permissions, a directory): named, on one line, not blamed on PORT.
    const { code, message } = error as NodeJS.ErrnoException;
    throw new ConfigError([`.env: cannot read ${path} (${code ?? message})`]);
  }
}

/** Fastify set to route like Express (issue 10: one protocol on both adapters). */
function newFastifyAdapter(
  trustProxy: TrustProxy,
  frameworkErrors: (error: Error, request: object, reply: object) => void,
  clientError: (error: NodeJS.ErrnoException, socket: Socket) => void,
): FastifyAdapter {
  return new FastifyAdapter({
    // TRUST_PROXY: whose X-Forwarded-For gives `request.ip`, as for Express.
    trustProxy: trustFunction(trustProxy),
    // Express matches `/create/` and `/CREATE` as `/create`; Fastify would answer 404.
    routerOptions: {
      ignoreTrailingSlash: true,
      caseSensitive: false,
      maxParamLength: MAX_PARAM_LENGTH,
    },
    // A request target carries no fragment [RFC 9112 §3.2]; one sent anyway is cut off, as Express
    // does, rather than read as part of the last query parameter.
    rewriteUrl: (req: IncomingMessage) => {
      const url = req.url ?? '/';
      const fragment = url.indexOf('#');
      return fragment === -1 ? url : url.slice(0, fragment);
    },
    // A malformed request (bad header, timeout), or a path the router cannot decode, gets our
    // JSON error shape, not Fastify's.
    clientErrorHandler: clientError,
    frameworkErrors,
    // New requests during shutdown are served until the server closes, as on Express; streams
    // opened then are refused with SHUTTING_DOWN.
    return503OnClosing: false,
    // No Nest middleware runs on Fastify (CORS, the request log and the metrics are hooks), so
    // middie, which Nest would register to run it, is left out: it cost 3 % of a status poll.
    skipMiddie: true,
  });
}

/**
 * Fastify parses a JSON body before any guard runs and refuses other types with its own 415. Our
 * guard reads the body itself, after the API key (http/json-body-parser.ts): so every content type
 * is handed over unread.
 */
function acceptRawBodies(app: NestFastifyApplication): void {
  const fastify = app.getHttpAdapter().getInstance();
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));
}

/**
 * FirstAnswers on every request before any route or guard: CORS on every answer, a guard's refusal
 * and a 404 included, preflights answered before the API key (a browser sends no `Authorization`
 * with one), and the requests no route may see refused. A Fastify `onRequest` hook, or the first
 * Express middleware. Called before the routes exist.
 */
function installFirstAnswers(app: INestApplication, config: AppConfig): FirstAnswers {
  const answers = new FirstAnswers(new CorsPolicy(config.corsOrigins), app.get(ApiKeys));
  // Node's own check answers a request with no Host with no body: FirstAnswers answers it instead.
  (app.getHttpServer() as Server & { requireHostHeader: boolean }).requireHostHeader = false;
  if (config.httpAdapter === 'fastify') {
    const fastify = (app as NestFastifyApplication).getHttpAdapter().getInstance();
    fastify.addHook('onRequest', (request, reply, done) => {
      // Answered here: Fastify must not answer it again.
      if (answers.apply(request.raw, reply.raw)) reply.hijack();
      else done();
    });
    return answers;
  }
  (app as NestExpressApplication).use(
    (req: IncomingMessage, res: ServerResponse, next: () => void) => {
      if (!answers.apply(req, res)) next();
    },
  );
  return answers;
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
  server.keepAliveTimeout = config.keepAliveTimeoutMs;
  // Node checks both timeouts on this interval (default 30 s), read when the server starts
  // listening; Nest creates the server without options, so it is set on the instance, before
  // listen, or a 1 s headers timeout would take 30 s to act.
  (server as Server & { connectionsCheckingInterval: number }).connectionsCheckingInterval =
    Math.min(1000, config.headersTimeoutMs);
  // An `Expect` other than `100-continue`: Node would answer a bare 417. The expectation is ignored
  // instead, as RFC 9110 §10.1.1 allows, and the request answered like any other.
  server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => {
    server.emit('request', req, res);
  });
}
