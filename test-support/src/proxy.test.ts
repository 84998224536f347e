import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startProxy, type Proxy } from './proxy.js';
import { openSse } from './sse-reader.js';

// A stand-in for heygen-api on a real socket: JSON routes, and a stream that sends `connected`
// and then a heartbeat every 20 ms, as /status does.
let upstream: Server;
let proxy: Proxy;

beforeAll(async () => {
  upstream = createServer((req, res) => {
    if (req.headers.accept?.includes('text/event-stream')) {
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      res.write('event: connected\ndata: {}\n\n');
      const timer = setInterval(() => res.write('event: heartbeat\ndata: {}\n\n'), 20);
      res.on('close', () => clearInterval(timer));
      return;
    }
    res.writeHead(req.method === 'POST' ? 201 : 200, { 'Content-Type': 'application/json' });
    res.end('{"ok":true}');
  });
  upstream.listen(0, '127.0.0.1');
  await once(upstream, 'listening');
  const { port } = upstream.address() as AddressInfo;
  proxy = await startProxy({ target: { host: '127.0.0.1', port } });
});
afterEach(() => proxy.setMode('pass'));
afterAll(async () => {
  await proxy?.close();
  upstream?.closeAllConnections();
  await new Promise((resolve) => upstream?.close(resolve));
});

const heartbeats = (frames: { event?: string }[]): number =>
  frames.filter((frame) => frame.event === 'heartbeat').length;

describe(startProxy.name, () => {
  it('should pass JSON and streams through in pass mode', async () => {
    expect(proxy.mode).toBe('pass');
    expect((await fetch(`${proxy.url}/health`)).status).toBe(200);
    const stream = await openSse(`${proxy.url}/status`);
    await stream.nextEvent('heartbeat');
    expect(proxy.openStreams).toBe(1);
    stream.destroy();
    await vi.waitFor(() => expect(proxy.openStreams).toBe(0));
  });

  it('should cut open streams and refuse new ones with 503, while JSON passes', async () => {
    const stream = await openSse(`${proxy.url}/status`);
    await stream.nextEvent('connected');
    proxy.setMode('cut-streams');
    await stream.ended;
    const refused = await openSse(`${proxy.url}/status`);
    expect(refused.status).toBe(503);
    expect(await refused.json()).toMatchObject({ code: 'PROXY_CUT' });
    expect(proxy.refusedStreams).toBeGreaterThan(0);
    expect((await fetch(`${proxy.url}/create`, { method: 'POST' })).status).toBe(201);
  });

  it('should stall streams without closing them, and release them in pass mode', async () => {
    const stream = await openSse(`${proxy.url}/status`);
    await stream.nextEvent('heartbeat');
    proxy.setMode('stall-streams');
    // Once the proxy holds a heartbeat back, everything before it was delivered long ago.
    await vi.waitFor(() => expect(proxy.stalledStreams).toBe(1));
    const frozen = heartbeats(stream.frames);
    await new Promise((resolve) => setTimeout(resolve, 150)); // several heartbeats
    expect(heartbeats(stream.frames)).toBe(frozen);
    expect(stream.isClosed).toBe(false);
    expect((await fetch(`${proxy.url}/health`)).status).toBe(200);
    proxy.setMode('pass');
    await vi.waitFor(() => expect(heartbeats(stream.frames)).toBeGreaterThan(frozen));
  });
});
