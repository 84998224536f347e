import { EventSource } from 'eventsource';
import { existsSync } from 'node:fs';
import { once } from 'node:events';
import { createServer, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestServer, type RunningServer } from 'heygen-test-support';
import type * as Lib from '../src/index.js';
import { HeyGenAPI, type HeyGenAPIOptions } from '../src/index.js';
import { launchChromium, startBundleSite } from './support/browser-site.js';
import { eventually } from './support/track.js';

// Issue 19: a `headers` function is asked before every request and every stream (re)connect, so
// a token that expires during a long render is refreshed and the stream resumes from its cursor.
// Against the real heygen-api with API_KEYS, behind a gateway that issues short-lived tokens.

/** The server's one API key: only the gateway knows it. */
const SERVER_KEY = 'server-key-0123456789';

/** One request as the gateway saw it. */
interface Seen {
  token: string | null;
  /** The token came as `access_token` in the URL (an EventSource's only way). */
  inQuery: boolean;
  stream: boolean;
  lastEventId: string | null;
}

/**
 * A gateway in front of the server, as deployments put one: it accepts the current short-lived
 * token (`tok-<generation>`, as a header or, for an EventSource, as `access_token`), answers 401
 * to any other, and forwards with the server's key; CORS preflights pass untouched. `rotate()`
 * expires the token and drops the streams opened with it, as a gateway that checks tokens per
 * connection does. `GET /token` is the app's auth service, for a page.
 */
const startGateway = async (target: RunningServer) => {
  let generation = 1;
  const seen: Seen[] = [];
  const streams = new Set<ServerResponse>();
  const gateway = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://gateway');
    if (url.pathname === '/token') {
      res.writeHead(200, { 'access-control-allow-origin': '*' }).end(`tok-${generation}`);
      return;
    }
    const bearer = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const token = bearer ?? url.searchParams.get('access_token');
    const inQuery = !bearer && url.searchParams.has('access_token');
    const stream = /text\/event-stream/.test(req.headers.accept ?? '');
    url.searchParams.delete('access_token');
    const preflight = req.method === 'OPTIONS';
    if (!preflight)
      seen.push({ token, inQuery, stream, lastEventId: url.searchParams.get('lastEventId') });
    if (!preflight && token !== `tok-${generation}`) {
      res.writeHead(401, {
        'content-type': 'application/json',
        'access-control-allow-origin': '*',
      });
      res.end('{"statusCode":401,"code":"UNAUTHORIZED","message":"Token expired"}');
      return;
    }
    const upstream = request(
      {
        host: target.host,
        port: target.port,
        method: req.method,
        path: url.pathname + url.search,
        headers: { ...req.headers, authorization: `Bearer ${SERVER_KEY}` },
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
    if (stream) {
      streams.add(res);
      res.on('close', () => streams.delete(res));
    }
  });
  gateway.listen(0, '127.0.0.1');
  await once(gateway, 'listening');
  const { port } = gateway.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    openStreams: () => streams.size,
    /** What the app's auth service hands out now. */
    token: () => `tok-${generation}`,
    rotate: () => {
      generation++;
      for (const res of streams) res.destroy();
    },
    close: async () => {
      gateway.closeAllConnections();
      gateway.close();
      await once(gateway, 'close');
    },
  };
};

let server: RunningServer;
let gateway: Awaited<ReturnType<typeof startGateway>>;
const instances: HeyGenAPI[] = [];

beforeAll(async () => {
  server = await startTestServer({ API_KEYS: SERVER_KEY, JOB_TIME: '300', HEARTBEAT_MS: '250' });
  gateway = await startGateway(server);
});
afterAll(async () => {
  await gateway?.close();
  await server?.stop('SIGKILL');
});
afterEach(() => {
  instances.splice(0).forEach((sut) => sut.dispose());
  gateway.seen.length = 0;
});

/** A client whose headers function asks the app's auth service (the gateway) each time. */
const newSut = (options: Partial<HeyGenAPIOptions>) => {
  const headers = vi.fn(async () => {
    await new Promise((resolve) => setTimeout(resolve, 5)); // the auth service takes a moment
    return { Authorization: `Bearer ${gateway.token()}` };
  });
  const sut = new HeyGenAPI({
    url: gateway.url,
    mode: 'sse',
    headers,
    retryDelay: 50,
    maxRetries: 3,
    ...options,
  });
  instances.push(sut);
  return { sut, headers };
};

describe.each([
  ['SSE over a fetch stream', { EventSource: null }],
  ['SSE over the eventsource package', { EventSource }],
] as const)('%s', (_name, options) => {
  it('should reconnect with the refreshed token and resume from its cursor', async () => {
    const { sut, headers } = newSut(options);
    const id = await sut.createJob({ duration: 2000 });
    const running = vi.fn();
    sut.listen(id, (_id, status) => {
      if (status === 'running') running();
    });
    const done = sut.waitForJob(id);
    await eventually(() => expect(running).toHaveBeenCalled());
    expect(gateway.openStreams()).toBe(1);
    const expired = gateway.token();
    const before = gateway.seen.length;

    gateway.rotate(); // the token expires mid-render; the gateway drops its stream

    await expect(done).resolves.toMatchObject({ id, status: 'completed' });
    const fresh = gateway.token();
    expect(gateway.seen.slice(0, before).map((request) => request.token)).toEqual(
      Array(before).fill(expired),
    );
    const after = gateway.seen.slice(before);
    expect(after.map((request) => request.token)).toEqual(Array(after.length).fill(fresh));
    // the stream came back with the new token, from the last event it had: in the URL from an
    // EventSource, as a header from a fetch stream
    const streams = after.filter((request) => request.stream);
    expect(streams[0]?.lastEventId).toMatch(/.+/);
    expect(streams.map((request) => request.inQuery)).toEqual(
      Array(streams.length).fill(options.EventSource !== null),
    );
    // asked once per request and per (re)connect
    expect(headers).toHaveBeenCalledTimes(gateway.seen.length);
  });
});

describe('POLL', () => {
  it('should send each poll and held wait with the token of the moment', async () => {
    const { sut, headers } = newSut({ mode: 'poll' });
    const id = await sut.createJob({ duration: 500 });
    const expired = gateway.token();
    gateway.rotate();
    await expect(sut.waitForJob(id)).resolves.toMatchObject({ id, status: 'completed' });
    const [create, ...polls] = gateway.seen;
    expect(create?.token).toBe(expired);
    expect(polls.length).toBeGreaterThan(0);
    expect(polls.map((request) => request.token)).toEqual(
      Array(polls.length).fill(gateway.token()),
    );
    expect(headers).toHaveBeenCalledTimes(gateway.seen.length);
  });
});

describe('in headless Chromium, over its EventSource', () => {
  const BUNDLE = new URL('../dist/index.browser.js', import.meta.url);

  it('should reconnect with the refreshed token as access_token', async () => {
    if (!existsSync(BUNDLE)) throw new Error('run `npm run build -w heygen-lib` first');
    const site = await startBundleSite(BUNDLE, 'lib');
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.goto(site.url);
      await page.waitForFunction(() => 'lib' in window);
      const expired = gateway.token();
      const outcome = page.evaluate(async (url) => {
        const { HeyGenAPI } = (window as unknown as { lib: typeof Lib }).lib;
        const unhandled: unknown[] = [];
        window.addEventListener('unhandledrejection', (event) => unhandled.push(event.reason));
        const heygen = new HeyGenAPI({
          url,
          mode: 'sse',
          retryDelay: 50,
          // the app's auth service, asked before every request and (re)connect
          headers: async () => ({
            Authorization: `Bearer ${await (await fetch(`${url}/token`)).text()}`,
          }),
        });
        const id = await heygen.createJob({ duration: 2000 });
        const job = await heygen.waitForJob(id);
        heygen.dispose();
        return { status: job.status, native: 'EventSource' in window, unhandled: unhandled.length };
      }, gateway.url);
      await eventually(() => expect(gateway.seen.some((request) => request.stream)).toBe(true));
      await new Promise((resolve) => setTimeout(resolve, 500)); // the job is running
      const before = gateway.seen.length;
      gateway.rotate();
      await expect(outcome).resolves.toEqual({
        status: 'completed',
        native: true,
        unhandled: 0,
      });
      expect(gateway.seen.slice(0, before).map((request) => request.token)).toEqual(
        Array(before).fill(expired),
      );
      const reconnects = gateway.seen.slice(before).filter((request) => request.stream);
      expect(reconnects.length).toBeGreaterThan(0);
      expect(reconnects.map((request) => request.token)).toEqual(
        Array(reconnects.length).fill(gateway.token()),
      );
      expect(reconnects.every((request) => request.inQuery)).toBe(true);
      expect(reconnects[0]!.lastEventId).toMatch(/.+/);
    } finally {
      await browser.close();
      await site.close();
    }
  });
});
