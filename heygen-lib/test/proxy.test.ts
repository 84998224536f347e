import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProxy, type Proxy } from '../../heygen-cli/src/proxy.js';
import { startServer, type ServerHandle } from './support/server.js';
import { eventually } from './support/track.js';

// heygen-cli/src/proxy.ts lives in the CLI (which reuses it) but is tested here, where a Vitest
// project exists.

const UUID = '0d8a3f52-7a43-4c1e-9a55-0f3b8f8d2a11';

let server: ServerHandle;
let proxy: Proxy;

beforeAll(async () => {
  server = await startServer({ HEARTBEAT_MS: '100' });
  proxy = await startProxy({ target: { host: server.host, port: server.port } });
});
afterAll(async () => {
  await proxy?.close();
  await server?.kill();
});

/** Opens a stream through the proxy and collects its text until aborted. */
const openStream = async (signal: AbortSignal) => {
  const res = await fetch(`${proxy.url}/status?uuid=${UUID}`, {
    headers: { Accept: 'text/event-stream' },
    signal,
  });
  const state = { text: '', ended: false, status: res.status };
  if (res.status === 200 && res.body) {
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    void (async () => {
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          state.text += decoder.decode(value);
        }
      } catch {
        // aborted or cut
      }
      state.ended = true;
    })();
  }
  return state;
};

describe('startProxy', () => {
  it('should pass JSON and streams through in pass mode', async () => {
    expect(proxy.mode).toBe('pass');
    const res = await fetch(`${proxy.url}/health`);
    expect(res.status).toBe(200);
    const abort = new AbortController();
    const stream = await openStream(abort.signal);
    await eventually(() => expect(stream.text).toContain('event: heartbeat'));
    expect(proxy.openStreams).toBe(1);
    abort.abort();
    await eventually(() => expect(proxy.openStreams).toBe(0));
  });

  it('should cut open streams and refuse new ones, while JSON passes', async () => {
    const abort = new AbortController();
    const stream = await openStream(abort.signal);
    await eventually(() => expect(stream.text).toContain('event: connected'));
    proxy.setMode('cut-streams');
    await eventually(() => expect(stream.ended).toBe(true));
    const refused = await openStream(abort.signal);
    expect(refused.status).toBe(503);
    expect(proxy.refusedStreams).toBeGreaterThan(0);
    const created = await fetch(`${proxy.url}/create?uuid=${UUID}`, { method: 'POST' });
    expect(created.status).toBe(201);
    proxy.setMode('pass');
    abort.abort();
  });

  it('should stall streams without closing them, and release them in pass mode', async () => {
    const abort = new AbortController();
    const stream = await openStream(abort.signal);
    await eventually(() => expect(stream.text).toContain('event: heartbeat'));
    proxy.setMode('stall-streams');
    // Once the proxy holds a heartbeat back, everything before it was delivered long ago.
    await eventually(() => expect(proxy.stalledStreams).toBe(1));
    const frozen = stream.text.length;
    await new Promise((resolve) => setTimeout(resolve, 300)); // several heartbeats
    expect(stream.text.length).toBe(frozen);
    expect(stream.ended).toBe(false);
    expect((await fetch(`${proxy.url}/health`)).status).toBe(200);
    proxy.setMode('pass');
    await eventually(() => expect(stream.text.length).toBeGreaterThan(frozen));
    abort.abort();
  });
});
