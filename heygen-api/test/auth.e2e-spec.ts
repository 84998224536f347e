import { describe, expect, it, vi } from 'vitest';
import { openSse, RecordingEventSource } from 'heygen-test-support';
import { requestJson } from './support/http.js';
import { JobsClient } from './support/jobs-client.js';
import { startServer } from './support/server.js';
import { describeEachAdapter } from './support/adapters.js';

const KEY = 'key-one';
const OTHER_KEY = 'key-two';

async function setUp(): Promise<{ url: string; client: JobsClient; jobId: number }> {
  const server = await startServer({ API_KEYS: `${KEY}, ${OTHER_KEY}`, JOB_TIME: '5000' });
  const client = new JobsClient(server.url, { apiKey: KEY });
  return { url: server.url, client, jobId: (await client.createOk()).id };
}

/** Every route that needs a key, as [method, path]. */
const ROUTES = (jobId: number): [string, string][] => [
  ['POST', '/create'],
  ['GET', `/status/${jobId}`],
  ['GET', '/status'],
  ['POST', `/cancel/${jobId}`],
];

const WRONG = [
  ['no key', {}],
  ['a wrong key', { Authorization: 'Bearer nope' }],
  ['an empty Bearer', { Authorization: 'Bearer ' }],
  ['a Basic scheme', { Authorization: `Basic ${KEY}` }],
  ['the bare key', { Authorization: KEY }],
] as const;

describeEachAdapter(() => {
  describe('API keys', () => {
    it.each(WRONG)(
      'should answer 401 UNAUTHORIZED with %s on every job route',
      async (_, headers) => {
        const { client, jobId } = await setUp();

        for (const [method, path] of ROUTES(jobId)) {
          const res = await requestJson(client.url(path), { method, headers: { ...headers } });
          expect({ route: `${method} ${path}`, status: res.status, body: res.body }).toMatchObject({
            status: 401,
            body: { statusCode: 401, error: 'Unauthorized', code: 'UNAUTHORIZED' },
          });
        }
        const stream = await openSse(client.url('/status'), { ...headers });
        expect(stream.status).toBe(401);
        expect(await stream.json()).toMatchObject({ code: 'UNAUTHORIZED' });
        expect((await client.status(jobId)).body.status).not.toBe('cancelled');
      },
    );

    it('should check the key before a job id that cannot be percent-decoded', async () => {
      const { client } = await setUp();

      const without = await requestJson(client.url('/status/%ZZ'));
      const withKey = await requestJson(client.url('/status/%ZZ'), {
        headers: { Authorization: `Bearer ${KEY}` },
      });

      expect(without).toMatchObject({ status: 401, body: { code: 'UNAUTHORIZED' } });
      expect(withKey).toMatchObject({ status: 400, body: { code: 'INVALID_JOB_ID' } });
    });

    it('should serve every route with any configured Bearer key', async () => {
      const { client, url } = await setUp();
      // The same uuid under another key is another client (issue 18), with jobs of its own.
      const other = new JobsClient(url, { clientId: client.clientId, apiKey: OTHER_KEY });
      const own = await other.create();

      expect(own.status).toBe(201);
      expect((await other.status(own.body.id)).status).toBe(200);
      expect((await other.batch()).status).toBe(200);
      expect((await other.cancel(own.body.id)).status).toBe(200);
      const stream = await openSse(client.url('/status'), { Authorization: `Bearer ${KEY}` });
      expect(stream.status).toBe(200);
      await stream.nextEvent('connected');
    });

    it('should take the access_token query parameter on the stream', async () => {
      const { client } = await setUp();

      const stream = await openSse(client.url('/status', { access_token: KEY }));

      expect(stream.status).toBe(200);
      expect(stream.headers['content-type']).toMatch(/^text\/event-stream/);
      await stream.nextEvent('snapshot');
    });

    it('should refuse a wrong access_token on the stream', async () => {
      const { client } = await setUp();

      const stream = await openSse(client.url('/status', { access_token: 'nope' }));

      expect(stream.status).toBe(401);
    });

    it.each([
      ['', {}],
      [' asking for an event stream (review of 2026-11-30)', { Accept: 'text/event-stream' }],
    ])(
      'should refuse the access_token query parameter on the JSON routes%s',
      async (_, headers) => {
        const { client, jobId } = await setUp();

        // GET /status with that Accept is the stream itself, which takes it.
        const routes = ROUTES(jobId).filter(
          ([, path]) => !('Accept' in headers && path === '/status'),
        );
        for (const [method, path] of routes) {
          const res = await requestJson(client.url(path, { access_token: KEY }), {
            method,
            headers,
          });
          expect({ route: `${method} ${path}`, status: res.status }).toEqual({
            route: `${method} ${path}`,
            status: 401,
          });
        }
        const rotate = await requestJson(
          client.url('/webhooks/secret/rotate', { access_token: KEY }),
          {
            method: 'POST',
            headers,
          },
        );
        expect(rotate.status).toBe(401);
      },
    );

    it.each([
      ['a malformed JSON body', { 'Content-Type': 'application/json' }, '{'],
      ['a non-JSON body', { 'Content-Type': 'text/plain' }, 'hello'],
      ['a Content-Type that is no media type', { 'Content-Type': 'a b' }, '{}'],
      ['a list of Content-Types', { 'Content-Type': 'application/json, text/plain' }, '{}'],
      ['an oversized body', { 'Content-Type': 'application/json' }, `{"x":"${'x'.repeat(5000)}"}`],
    ])('should answer 401 before looking at %s', async (_, headers, body) => {
      const { client } = await setUp();

      const res = await requestJson(client.url('/create'), { method: 'POST', headers, body });

      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ code: 'UNAUTHORIZED' });
    });

    it('should open the stream for the eventsource package sending a Bearer header', async () => {
      const { client } = await setUp();

      const es = new RecordingEventSource(client.url('/status'), {
        headers: { Authorization: `Bearer ${KEY}` },
      });
      const snapshot = await es.waitFor<{ jobs: unknown[] }>('snapshot');

      expect(snapshot.data.jobs).toHaveLength(1);
    });

    it('should refuse the eventsource package without a key, as a failed connection', async () => {
      const { client } = await setUp();

      const es = new RecordingEventSource(client.url('/status'));

      await vi.waitFor(() => expect(es.source.readyState).toBe(es.source.CLOSED));
      expect(es.received).toEqual([]);
    });

    it('should serve /health and /docs without a key', async () => {
      const { url } = await setUp();

      expect((await requestJson(`${url}/health`)).status).toBe(200);
      expect((await requestJson(`${url}/docs/openapi.json`)).status).toBe(200);
      expect((await fetch(`${url}/docs`)).status).toBe(200);
    });
  });
});
