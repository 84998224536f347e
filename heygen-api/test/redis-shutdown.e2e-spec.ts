import { request } from 'node:http';
import { openSse, spawnServer } from 'heygen-test-support';
import { describe, expect, it, vi } from 'vitest';
import { newClientId } from './support/client-id.js';
import { connectTestRedis, useTestRedis } from './support/redis-server.js';

const redis = useTestRedis();

/** A held status request; resolves with the time its answer came, and whether it closes. */
function heldStatus(
  url: string,
): Promise<{ status: number; connection: string | undefined; at: number }> {
  return new Promise((resolve, reject) => {
    request(url, { headers: { Prefer: 'wait=20' } }, (res) => {
      res.resume();
      resolve({ status: res.statusCode!, connection: res.headers.connection, at: Date.now() });
    })
      .on('error', reject)
      .end();
  });
}

describe('a graceful stop while Redis does not answer (review of 2026-12-01)', () => {
  it('should answer held waits, end streams and say down first, before the runner gives up handing its jobs over', async () => {
    const lines: { text: string; at: number }[] = [];
    const server = await spawnServer({
      env: {
        ...process.env,
        PORT: '0',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'warn',
        JOBS_DRIVER: 'redis',
        REDIS_URL: redis.url,
      },
      onLine: (text) => lines.push({ text, at: Date.now() }),
    });
    const clientId = newClientId();
    const created = await fetch(`${server.url}/create?uuid=${clientId}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ duration: 60_000 }),
    });
    const { id } = (await created.json()) as { id: number };
    await vi.waitFor(async () => {
      const job = (await (await fetch(`${server.url}/status/${id}?uuid=${clientId}`)).json()) as {
        status: string;
      };
      expect(job.status).toBe('running');
    });
    const stream = await openSse(`${server.url}/status?uuid=${clientId}`);
    await stream.nextEvent('connected');
    const streamEnded = stream.ended.then(() => Date.now());
    const held = heldStatus(`${server.url}/status/${id}?uuid=${clientId}`);
    // Held once the server counts it.
    await vi.waitFor(async () => {
      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      expect(metrics).toMatch(/^heygen_waits_held 1$/m);
    });

    const { connections } = await connectTestRedis(redis);
    // For as long as the stop takes: it ends by itself.
    await connections.command.call('CLIENT', 'PAUSE', '6000', 'ALL');
    const stopping = server.stop();

    const answer = await held;
    expect(answer).toMatchObject({ status: 200, connection: 'close' });
    // Still listening while the slow steps run: health says down for the balancer.
    const health = await fetch(`${server.url}/health`).then(
      (res) => ({ status: res.status, at: Date.now() }),
      () => undefined,
    );
    await stopping;
    // The runner waits up to 3 s for a paused Redis to take its running job back, then says so:
    // the wait was answered before that (it was answered after it).
    const gaveUp = lines.find(({ text }) => text.includes('did not take'));
    expect(gaveUp).toBeDefined();
    expect(answer.at).toBeLessThan(gaveUp!.at);
    expect(await streamEnded).toBeLessThan(gaveUp!.at);
    expect(health?.status).toBe(503);
    expect(health!.at).toBeLessThan(gaveUp!.at);
  }, 30_000);
});
