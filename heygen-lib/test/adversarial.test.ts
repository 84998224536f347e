import { EventSource } from 'eventsource';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import {
  HeyGenAPI,
  HeyGenStatusListenerMode,
  JobNotFoundError,
  MessageParseError,
  SSEError,
  type HeyGenAPIOptions,
  type Job,
} from '../src/index.js';

// The library against hostile servers (issue 18): a small real HTTP server per case that
// answers what a broken or malicious server might, and the library must stay bounded.

const JOB: Job = {
  id: 1,
  status: 'running',
  progress: 10,
  revision: 2,
  duration: 60_000,
  createdAt: '2026-11-30T00:00:00.000Z',
  updatedAt: '2026-11-30T00:00:00.000Z',
  expectedAt: '2026-11-30T00:01:00.000Z',
};

interface Hostile {
  url: string;
  /** Requests received, by path (with the query's `ids` when present). */
  requests: string[];
  server: Server;
}

const servers: Server[] = [];
const clients: HeyGenAPI[] = [];
afterEach(async () => {
  clients.splice(0).forEach((client) => client.dispose());
  await Promise.all(
    servers.splice(0).map((server) => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    }),
  );
});

/** Starts a server on a free loopback port that answers every request with `handler`. */
const hostile = async (
  handler: (req: IncomingMessage, res: ServerResponse, url: URL) => void,
): Promise<Hostile> => {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const ids = url.searchParams.get('ids');
    requests.push(`${req.method} ${url.pathname}${ids === null ? '' : `?ids=${ids}`}`);
    handler(req, res, url);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, requests, server };
};

const isStream = (req: IncomingMessage): boolean =>
  (req.headers.accept ?? '').includes('text/event-stream');

const json = (res: ServerResponse, body: unknown, headers: Record<string, string> = {}): void => {
  res.writeHead(200, { 'Content-Type': 'application/json', ...headers }).end(JSON.stringify(body));
};

const sse = (res: ServerResponse): void => {
  res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store' });
};

const event = (type: string, data: unknown, id?: string): string =>
  `${id ? `id: ${id}\n` : ''}event: ${type}\ndata: ${JSON.stringify(data)}\n\n`;

const client = (url: string, options: Partial<HeyGenAPIOptions> = {}): HeyGenAPI => {
  const heygen = new HeyGenAPI({
    url,
    mode: HeyGenStatusListenerMode.SSE,
    EventSource,
    retryDelay: 50,
    maxRetries: 3,
    pollInterval: 200,
    ...options,
  });
  clients.push(heygen);
  return heygen;
};

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('heygen-lib against hostile servers', () => {
  it('should keep to its poll budget whatever X-Next-Poll-Ms says', async () => {
    for (const hint of ['abc', '1e12', 'Infinity', '2147483648']) {
      const server = await hostile((_req, res) =>
        json(res, { jobs: [JOB], missing: [] }, { 'X-Next-Poll-Ms': hint }),
      );
      const heygen = client(server.url, { mode: HeyGenStatusListenerMode.POLL });
      heygen.listen(1, () => {});
      await sleep(700);
      heygen.dispose();
      // 200 ms budget over 0.7 s: 4 polls at most (a busy loop made hundreds); a huge hint is
      // obeyed up to the clamp (2³¹−1 ms), a bad one means the budget.
      expect(server.requests.length, hint).toBeLessThanOrEqual(5);
      expect(server.requests.length, hint).toBeGreaterThanOrEqual(hint === 'abc' ? 2 : 1);
    }
  });

  it('should refuse an endless line with SSEError instead of buffering it', async () => {
    const server = await hostile((req, res) => {
      if (!isStream(req)) return json(res, { jobs: [JOB], missing: [] });
      sse(res);
      res.write(event('connected', { clientId: 'x', heartbeatMs: 60_000, resumed: false }));
      res.write('data: ');
      const chunk = 'x'.repeat(64 * 1024);
      // 2 MiB with no line break, written as fast as the socket takes it.
      for (let i = 0; i < 32; i++) res.write(chunk);
    });
    // The built-in parser: SSE over a streaming fetch.
    const heygen = client(server.url, { EventSource: null, maxRetries: 0 });
    await expect(heygen.waitForJob(1, { timeout: 10_000 })).rejects.toBeInstanceOf(SSEError);
  });

  it('should hand a garbled event to listen() callbacks and keep waits pending', async () => {
    const server = await hostile((req, res) => {
      if (!isStream(req)) return json(res, { jobs: [JOB], missing: [] });
      sse(res);
      res.write(event('connected', { clientId: 'x', heartbeatMs: 60_000, resumed: false }));
      res.write(event('snapshot', { jobs: [JOB] }, '1'));
      res.write('id: 2\nevent: job\ndata: {garbled\n\n');
      res.write(event('job', { id: 1, revision: 'x' }, '3')); // the wrong shape
      setTimeout(() => {
        res.write(event('job', { ...JOB, status: 'completed', revision: 3, finishedAt: 'x' }, '4'));
      }, 100);
    });
    const heygen = client(server.url);
    const errors: unknown[] = [];
    heygen.listen(
      1,
      () => {},
      (error) => errors.push(error),
    );
    await expect(heygen.waitForJob(1, { timeout: 5000 })).resolves.toMatchObject({
      status: 'completed',
    });
    expect(errors).toEqual([expect.any(MessageParseError), expect.any(MessageParseError)]);
  });

  it('should run out of retries against a server that says connected and hangs up', async () => {
    let streams = 0;
    const server = await hostile((req, res) => {
      if (!isStream(req)) return json(res, { jobs: [JOB], missing: [] });
      streams++;
      sse(res);
      res.end(event('connected', { clientId: 'x', heartbeatMs: 60_000, resumed: false }));
    });
    const heygen = client(server.url);
    await expect(heygen.waitForJob(1, { timeout: 10_000 })).rejects.toBeInstanceOf(SSEError);
    expect(streams).toBe(4); // the first + maxRetries, then no more
    await sleep(300);
    expect(streams).toBe(4);
  });

  it('should keep a healthy stream whatever heartbeatMs says', async () => {
    for (const heartbeatMs of [1e12, 'abc', -1]) {
      let streams = 0;
      const server = await hostile((req, res) => {
        if (!isStream(req)) return json(res, { jobs: [JOB], missing: [] });
        streams++;
        sse(res);
        res.write(event('connected', { clientId: 'x', heartbeatMs, resumed: false }));
        res.write(event('snapshot', { jobs: [JOB] }, '1'));
      });
      const heygen = client(server.url);
      const states: string[] = [];
      heygen.listen(1, () => {});
      await sleep(500);
      states.push(heygen.state.state);
      // An overflowing watchdog fired at once and reconnected in a loop.
      expect(streams, String(heartbeatMs)).toBe(1);
      expect(states, String(heartbeatMs)).toEqual(['open']);
      heygen.dispose();
    }
  });

  it('should read no more than 1 MiB of an answer, however far it inflates (review of 2026-12-01)', async () => {
    // 100 MiB of JSON, gzipped to about 100 KB on the wire.
    const bomb = gzipSync(JSON.stringify({ ...JOB, pad: 'x'.repeat(100 * 2 ** 20) }));
    const server = await hostile((_req, res) => {
      res
        .writeHead(201, { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' })
        .end(bomb);
    });
    const heygen = client(server.url);
    await expect(heygen.createJob()).rejects.toBeInstanceOf(MessageParseError);
    expect(heygen.stats().api.bytes).toBeLessThanOrEqual(2 ** 20);
  });

  it('should reject answers of the wrong shape with MessageParseError', async () => {
    for (const body of [
      '{}',
      '{"id":"1; DROP"}',
      'null',
      '[]',
      // A final status without its finishedAt, or a running job with one (review of 2026-12-01).
      '{"id":1,"status":"failed","revision":2}',
      '{"id":1,"status":"failed","revision":2,"finishedAt":""}',
      '{"id":1,"status":"running","revision":2,"finishedAt":"2026-11-30T00:00:00.000Z"}',
    ]) {
      const server = await hostile((_req, res) => {
        res.writeHead(201, { 'Content-Type': 'application/json' }).end(body);
      });
      const heygen = client(server.url);
      await expect(heygen.createJob(), body).rejects.toBeInstanceOf(MessageParseError);
    }
  });

  it('should name the operation, the URL and the cause when nothing answers', async () => {
    const { server } = await hostile(() => {});
    const { port } = server.address() as AddressInfo;
    await new Promise((resolve) => server.close(resolve)); // nothing listens there now
    const heygen = client(`http://127.0.0.1:${port}`, { maxRetries: 0 });
    await expect(heygen.createJob()).rejects.toMatchObject({
      code: 'NETWORK_ERROR',
      message: `POST http://127.0.0.1:${port}/create: no answer (ECONNREFUSED)`,
    });
  });

  it('should retry a lookup that fails, so a wait for an unknown id still ends', async () => {
    let lookups = 0;
    const server = await hostile((req, res, url) => {
      if (isStream(req)) {
        sse(res);
        res.write(event('connected', { clientId: 'x', heartbeatMs: 60_000, resumed: false }));
        res.write(event('snapshot', { jobs: [] }, '1'));
        return;
      }
      if (url.searchParams.has('ids') && ++lookups === 1) {
        return void res.writeHead(503, { 'Content-Type': 'application/json' }).end('{}');
      }
      json(res, { jobs: [], missing: [9] });
    });
    const heygen = client(server.url);
    await expect(heygen.waitForJob(9, { timeout: 5000 })).rejects.toEqual(new JobNotFoundError(9));
    expect(lookups).toBeGreaterThanOrEqual(2);
  });
});
