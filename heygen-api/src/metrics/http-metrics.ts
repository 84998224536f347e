import { type INestApplication } from '@nestjs/common';
import { type NestExpressApplication } from '@nestjs/platform-express';
import { type NestFastifyApplication } from '@nestjs/platform-fastify';
import { type IncomingMessage, type ServerResponse } from 'node:http';
import { type Histogram } from 'prom-client';
import { type HttpAdapter } from '../config/app-config.js';
import { prefersEventStream } from '../http/accept.js';
import { FirstAnswers } from '../http/first-answers.js';
import { AppMetrics } from './app-metrics.js';

/** The route label of a request no route matched (404s, CORS preflights on Express). */
export const UNMATCHED_ROUTE = 'unmatched';
/** Methods named as they are; any other gets one label, so a client cannot add series. */
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

type DurationChild = ReturnType<Histogram<'route' | 'method' | 'status_code'>['labels']>;

/**
 * The histogram's children by route, method and status, made on first use: `labels()` joins its
 * values into a key on every call, and issue 10 measures these routes' throughput. Route patterns,
 * methods and status codes are each a short fixed list, so the maps stay small.
 */
export class HttpDurations {
  private readonly children = new Map<string, Map<string, Map<number, DurationChild>>>();

  constructor(private readonly histogram: Histogram<'route' | 'method' | 'status_code'>) {}

  observe(route: string | undefined, method: string, status: number, seconds: number): void {
    this.child(route ?? UNMATCHED_ROUTE, METHODS.has(method) ? method : 'other', status).observe(
      seconds,
    );
  }

  private child(route: string, method: string, status: number): DurationChild {
    let byMethod = this.children.get(route);
    if (!byMethod) {
      byMethod = new Map<string, Map<number, DurationChild>>();
      this.children.set(route, byMethod);
    }
    let byStatus = byMethod.get(method);
    if (!byStatus) {
      byStatus = new Map<number, DurationChild>();
      byMethod.set(method, byStatus);
    }
    let child = byStatus.get(status);
    if (!child) {
      child = this.histogram.labels(route, method, String(status));
      byStatus.set(status, child);
    }
    return child;
  }
}

/**
 * An event stream's response lasts as long as its connection: its "duration" says nothing about
 * the server's speed, so it is left out (the open-stream gauge counts streams). A stream refused
 * (`429`, `503 SERVER_STREAMS_FULL`, a bad uuid) is an answer like any other, and is counted.
 */
const isEventStream = (route: string | undefined, req: IncomingMessage, status: number): boolean =>
  status === 200 &&
  route === '/status' &&
  req.method === 'GET' &&
  prefersEventStream(req.headers.accept);

/**
 * Times every HTTP request by its route pattern (`/status/:id`, never the URL), under either
 * adapter: Fastify's `onResponse` hook, Express's `finish` of the response. Called by createApp
 * before the routes exist, so that every route is covered. Answers given outside the framework
 * (Node's parser refusals, a path Fastify's router cannot decode) are for the caller to observe
 * on the durations it returns.
 */
export function instrumentHttp(app: INestApplication, adapter: HttpAdapter): HttpDurations {
  const durations = new HttpDurations(app.get(AppMetrics).httpDuration);
  if (adapter === 'fastify') {
    const fastify = (app as NestFastifyApplication).getHttpAdapter().getInstance();
    fastify.addHook('onResponse', (request, reply, done) => {
      // Undefined when no route matched (a 404), or when the first answers answered before any
      // route did (a preflight, no Host): Fastify routes before its hooks, Express after them.
      const route = FirstAnswers.answeredFirst(request.raw) ? undefined : request.routeOptions.url;
      if (!isEventStream(route, request.raw, reply.statusCode)) {
        durations.observe(route, request.method, reply.statusCode, reply.elapsedTime / 1000);
      }
      done();
    });
    return durations;
  }
  const started = new WeakMap<ServerResponse, number>();
  // One listener function for every response: `this` is the response, `req` its request.
  function onFinish(this: ServerResponse): void {
    const req = this.req as IncomingMessage & { route?: { path?: unknown } };
    const route = typeof req.route?.path === 'string' ? req.route.path : undefined;
    if (isEventStream(route, req, this.statusCode)) return;
    const seconds = (performance.now() - (started.get(this) ?? performance.now())) / 1000;
    durations.observe(route, req.method ?? 'other', this.statusCode, seconds);
  }
  (app as NestExpressApplication).use(
    (_req: IncomingMessage, res: ServerResponse, next: () => void) => {
      started.set(res, performance.now());
      res.once('finish', onFinish);
      next();
    },
  );
  return durations;
}
