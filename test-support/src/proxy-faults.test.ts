import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, onTestFinished, vi } from 'vitest';
import { startProxy, type Proxy, type ProxyOptions } from './proxy.js';
import { openSse } from './sse-reader.js';

// The fault modes of the library's fault matrix (docs/reliability.md), each on real sockets: a
// stand-in for heygen-api on a real port, behind a proxy of the test's own.

/** Requests the stand-in received, by request line (`GET /health`). */
const received: string[] = [];

/** A stand-in for heygen-api: JSON routes, and a stream with a heartbeat every 20 ms. */
const startUpstream = async (): Promise<Server> => {
  const server = createServer((req, res) => {
    received.push(`${req.method} ${req.url}`);
    if (req.headers.accept?.includes('text/event-stream')) {
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      res.write('event: connected\ndata: {}\n\n');
      const timer = setInterval(() => res.write('event: heartbeat\ndata: {}\n\n'), 20);
      res.on('close', () => clearInterval(timer));
      return;
    }
    res.writeHead(req.method === 'POST' ? 201 : 200, { 'Content-Type': 'application/json' });
    res.end(`{"ok":true,"port":${(server.address() as AddressInfo).port}}`);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return server;
};

const stopUpstream = async (server: Server | undefined): Promise<void> => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
};

let upstream: Server;
beforeAll(async () => {
  upstream = await startUpstream();
});
afterAll(() => stopUpstream(upstream));

/** A proxy in front of the stand-in, closed when the test finishes. */
const newProxy = async (options: Omit<ProxyOptions, 'target'> = {}): Promise<Proxy> => {
  const { port } = upstream.address() as AddressInfo;
  const proxy = await startProxy({ target: { host: '127.0.0.1', port }, ...options });
  onTestFinished(() => proxy.close());
  return proxy;
};

const elapsed = async <T>(run: () => Promise<T>): Promise<[T, number]> => {
  const started = performance.now();
  const result = await run();
  return [result, performance.now() - started];
};

describe(`${startProxy.name} fault modes`, () => {
  it('should reset new connections in refuse mode, drop open ones, and pass again after', async () => {
    const proxy = await newProxy();
    const stream = await openSse(`${proxy.url}/status`);
    await stream.nextEvent('connected');
    proxy.setMode('refuse');
    await stream.ended;
    const error = await fetch(`${proxy.url}/health`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError); // fetch failed: the connection was reset
    expect(proxy.refusedConnections).toBeGreaterThan(0);
    proxy.setMode('pass');
    expect((await fetch(`${proxy.url}/health`)).status).toBe(200);
  });

  it('should answer every request with a JSON 500 in error-500 mode, streams too', async () => {
    const proxy = await newProxy();
    proxy.setMode('error-500');
    const before = received.length;
    const res = await fetch(`${proxy.url}/create`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(500);
    expect(res.headers.get('retry-after')).toBeNull();
    expect(await res.json()).toMatchObject({ statusCode: 500, code: 'INTERNAL_ERROR' });
    const stream = await openSse(`${proxy.url}/status`);
    expect(stream.status).toBe(500);
    expect(proxy.answeredRequests).toBe(2);
    expect(received.length).toBe(before); // the server never saw them
  });

  it('should answer JSON requests with a 200 that is not JSON in garbage mode, and let streams pass', async () => {
    const proxy = await newProxy();
    proxy.setMode('garbage');
    const res = await fetch(`${proxy.url}/status/1`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html');
    expect(await res.text()).toBe('<html>oops</html>');
    const stream = await openSse(`${proxy.url}/status`);
    await stream.nextEvent('heartbeat');
    expect(proxy.answeredRequests).toBe(1);
  });

  it('should deliver every response slowMs late, in order, in slow mode', async () => {
    const proxy = await newProxy({ slowMs: 300 });
    proxy.setMode('slow');
    const before = received.length;
    const [res, ms] = await elapsed(() => fetch(`${proxy.url}/health`));
    expect(ms).toBeGreaterThanOrEqual(290);
    expect(await res.json()).toMatchObject({ ok: true });
    expect(received.length).toBe(before + 1);

    const [stream, headMs] = await elapsed(() => openSse(`${proxy.url}/status`));
    expect(headMs).toBeGreaterThanOrEqual(290);
    await stream.nextEvent('connected');
    await stream.nextEvent('heartbeat');
    expect(stream.frames[0]?.event).toBe('connected'); // order kept
    proxy.setMode('pass');
    const [, fast] = await elapsed(() => fetch(`${proxy.url}/health`));
    expect(fast).toBeLessThan(290);
  });

  it('should cut each stream cutEveryMs after it opened in cut-every mode, and let new ones in', async () => {
    const proxy = await newProxy({ cutEveryMs: 150 });
    proxy.setMode('cut-every');
    for (let round = 1; round <= 2; round++) {
      const [stream, lived] = await elapsed(async () => {
        const stream = await openSse(`${proxy.url}/status`);
        await stream.nextEvent('heartbeat');
        await stream.ended;
        return stream;
      });
      expect(stream.status).toBe(200);
      expect(lived).toBeGreaterThanOrEqual(140);
      expect(proxy.cutStreams).toBe(round);
    }
    expect((await fetch(`${proxy.url}/health`)).status).toBe(200);
  });

  it('should stop cutting when the mode changes', async () => {
    const proxy = await newProxy({ cutEveryMs: 100 });
    proxy.setMode('cut-every');
    const stream = await openSse(`${proxy.url}/status`);
    await stream.nextEvent('connected');
    proxy.setMode('pass');
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(stream.isClosed).toBe(false);
    expect(proxy.cutStreams).toBe(0);
  });
});

describe(`${startProxy.name} controls`, () => {
  it('should forward new connections to a new target after setTarget', async () => {
    const second = await startUpstream();
    onTestFinished(() => stopUpstream(second));
    const proxy = await newProxy();
    const first = (await (await fetch(`${proxy.url}/health`)).json()) as { port: number };
    proxy.setTarget({ host: '127.0.0.1', port: (second.address() as AddressInfo).port });
    // A fresh connection: keep-alive would reuse the old one, which stays with the old target.
    const res = await fetch(`${proxy.url}/health`, { headers: { Connection: 'close' } });
    const after = (await res.json()) as { port: number };
    expect(after.port).not.toBe(first.port);
    expect(after.port).toBe((second.address() as AddressInfo).port);
  });

  it('should tell request lines to onRequest before forwarding them', async () => {
    const proxy = await newProxy();
    const heard: [string, boolean][] = [];
    const before = received.length;
    const off = proxy.onRequest((line, stream) => {
      heard.push([line, stream]);
      // Nothing of this request has reached the server yet when the listener runs.
      expect(received.length - before).toBe(heard.length - 1);
    });
    await fetch(`${proxy.url}/create?uuid=x`, { method: 'POST' });
    const stream = await openSse(`${proxy.url}/status`);
    await stream.nextEvent('connected');
    off();
    await fetch(`${proxy.url}/health`);
    expect(heard).toEqual([
      ['POST /create?uuid=x HTTP/1.1', false],
      ['GET /status HTTP/1.1', true],
    ]);
    await vi.waitFor(() => expect(received.length).toBe(before + 3));
  });
});
