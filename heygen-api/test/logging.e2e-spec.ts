import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSse, spawnServer, type RunningServer } from 'heygen-test-support';
import { describeEachAdapter } from './support/adapters.js';
import { builtServerEnv } from './support/built-server.js';
import { newClientId } from './support/client-id.js';
import { RawConnection } from './support/raw-socket.js';

const API_KEY = 'log-test-key-0123456789';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface RequestLine {
  level: string;
  context: string;
  reqId: string;
  req: { method: string; url: string };
  res: { statusCode: number | null };
  responseTime: number;
  msg: string;
}

/** The built server (npm run build), its output lines kept. */
async function startLogged(
  env: Record<string, string>,
): Promise<{ server: RunningServer; lines: string[] }> {
  const lines: string[] = [];
  const server = await spawnServer({
    env: builtServerEnv({ API_KEYS: API_KEY, ...env }),
    onLine: (line) => lines.push(line),
  });
  return { server, lines };
}

/** Log lines are written as the response ends: waits until `count` request lines are there. */
async function requestLines(lines: string[], count: number): Promise<RequestLine[]> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const found = lines
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as RequestLine)
      .filter((line) => line.context === 'http');
    if (found.length >= count || Date.now() > deadline) return found;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describeEachAdapter(() => {
  describe('LOG_FORMAT=json at LOG_LEVEL=info (built server)', () => {
    let server: RunningServer;
    let lines: string[];
    const client = newClientId();
    const auth = { Authorization: `Bearer ${API_KEY}` };

    beforeAll(async () => {
      ({ server, lines } = await startLogged({ LOG_LEVEL: 'info', LOG_FORMAT: 'json' }));
    });
    afterAll(() => server?.stop());

    it('should write one JSON line per request, with the id the request sent echoed back', async () => {
      const response = await fetch(`${server.url}/create?uuid=${client}`, {
        method: 'POST',
        headers: { ...auth, 'X-Request-Id': 'trace-42' },
      });

      expect(response.status).toBe(201);
      expect(response.headers.get('x-request-id')).toBe('trace-42');
      const [line] = (await requestLines(lines, 1)).filter((l) => l.reqId === 'trace-42');
      expect(line).toMatchObject({
        level: 'info',
        req: { method: 'POST' },
        res: { statusCode: 201 },
      });
      expect(line!.responseTime).toBeGreaterThanOrEqual(0);
    });

    it('should generate an id when the request has none or an unusable one', async () => {
      const none = await fetch(`${server.url}/status/1?uuid=${client}`, { headers: auth });
      const bad = await fetch(`${server.url}/status/1?uuid=${client}`, {
        headers: { ...auth, 'X-Request-Id': 'x'.repeat(200) },
      });

      expect(none.headers.get('x-request-id')).toMatch(UUID);
      expect(bad.headers.get('x-request-id')).toMatch(UUID);
      const ids = (await requestLines(lines, 3)).map((line) => line.reqId);
      expect(ids).toContain(none.headers.get('x-request-id'));
      expect(ids).toContain(bad.headers.get('x-request-id'));
    });

    it('should log refused and unknown requests too', async () => {
      const refused = await fetch(`${server.url}/create?uuid=${client}`, {
        method: 'POST',
        headers: { 'X-Request-Id': 'refused-1' },
      });
      const unknown = await fetch(`${server.url}/no-such-route`, {
        headers: { 'X-Request-Id': 'unknown-1' },
      });

      expect([refused.status, unknown.status]).toEqual([401, 404]);
      const found = await requestLines(lines, 5);
      expect(found.find((l) => l.reqId === 'refused-1')?.res.statusCode).toBe(401);
      expect(found.find((l) => l.reqId === 'unknown-1')?.res.statusCode).toBe(404);
    });

    it('should never write an API key or a client id in full, even from a stream URL', async () => {
      const stream = await openSse(`${server.url}/status?uuid=${client}&access_token=${API_KEY}`);
      await stream.nextEvent('connected');
      stream.destroy();
      const streamed = await requestLines(lines, 6);

      expect(streamed.some((line) => line.req.url.includes('access_token=[redacted]'))).toBe(true);
      const output = lines.join('\n');
      expect(output).not.toContain(API_KEY);
      expect(output).not.toContain(client);
      expect(output).toContain(client.slice(0, 8));
    });
  });

  describe('requests that got no answer from the app (review of 2026-12-01)', () => {
    it('should log the 408 sent for a body too slow, and no status for a client that left', async () => {
      const { server, lines } = await startLogged({
        LOG_LEVEL: 'info',
        LOG_FORMAT: 'json',
        HEADERS_TIMEOUT_MS: '500',
        REQUEST_TIMEOUT_MS: '1000',
      });
      try {
        const client = newClientId();
        const auth = { Authorization: `Bearer ${API_KEY}` };
        const created = await fetch(`${server.url}/create?uuid=${client}`, {
          method: 'POST',
          headers: { ...auth, 'Content-Type': 'application/json' },
          body: JSON.stringify({ duration: 60_000 }),
        });
        const { id } = (await created.json()) as { id: number };
        const slow = await RawConnection.open(server.url);
        slow.write(
          `POST /create?uuid=${client} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${API_KEY}\r\n` +
            'X-Request-Id: body-too-slow\r\nContent-Type: application/json\r\nContent-Length: 50\r\n\r\n{',
        );
        const leaving = new AbortController();
        const held = fetch(`${server.url}/status/${id}?uuid=${client}`, {
          headers: { ...auth, Prefer: 'wait=20', 'X-Request-Id': 'client-left' },
          signal: leaving.signal,
        }).catch(() => undefined);
        setTimeout(() => leaving.abort(), 300);
        await held;
        await slow.waitForClose();
        expect(slow.received).toMatch(/^HTTP\/1\.1 408 /);

        const found = await requestLines(lines, 3);
        const line = (reqId: string): RequestLine | undefined =>
          found.find((l) => l.reqId === reqId);
        // Both said 200: a response not sent keeps its default status.
        expect(line('body-too-slow')).toMatchObject({ res: { statusCode: 408 } });
        expect(line('body-too-slow')!.msg).toMatch(/ 408$/);
        expect(line('client-left')).toMatchObject({ res: { statusCode: null } });
        expect(line('client-left')!.msg).toMatch(/no answer/);
      } finally {
        await server.stop();
      }
    });
  });

  describe('LOG_FORMAT=pretty (built server)', () => {
    it('should write readable lines, not JSON', async () => {
      const { server, lines } = await startLogged({ LOG_LEVEL: 'info', LOG_FORMAT: 'pretty' });
      try {
        await fetch(`${server.url}/health`);
        const deadline = Date.now() + 5000;
        while (!lines.some((l) => l.includes('GET /health 200')) && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      } finally {
        await server.stop();
      }

      const line = lines.find((l) => l.includes('GET /health 200'));
      expect(line).toMatch(/INFO/);
      expect(line?.startsWith('{')).toBe(false);
    });
  });

  describe('default LOG_LEVEL (warn)', () => {
    it('should echo request ids but write no request lines', async () => {
      const { server, lines } = await startLogged({});
      try {
        const response = await fetch(`${server.url}/health`, {
          headers: { 'X-Request-Id': 'quiet-1' },
        });
        expect(response.headers.get('x-request-id')).toBe('quiet-1');
      } finally {
        await server.stop();
      }
      expect(lines.join('\n')).not.toContain('quiet-1');
    });
  });
});
