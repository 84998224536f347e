import { describe, expect, it } from 'vitest';
import { openSse } from 'heygen-test-support';
import { requestJson } from './support/http.js';
import { JobsClient } from './support/jobs-client.js';
import { parseResponses, RawConnection, rawRequest } from './support/raw-socket.js';
import { startServer } from './support/server.js';
import { describeEachAdapter } from './support/adapters.js';

const EXPOSED = ['Location', 'X-Next-Poll-Ms', 'Idempotent-Replayed', 'Retry-After'];
const ALLOWED = [
  'Authorization',
  'Cancel-After',
  'Content-Type',
  'Idempotency-Key',
  'Last-Event-ID',
];

/** A comma-separated header as a lower-cased list. */
const list = (header: string | null): string[] =>
  (header ?? '').split(',').map((item) => item.trim().toLowerCase());

/** The default `*` allows every origin: answered as `*` or by echoing the caller's origin. */
const anyOrigin = (header: string | null): boolean =>
  header === '*' || header === 'https://app.example.com';

interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, { security?: unknown }>>;
  components: { securitySchemes: Record<string, unknown> };
}

describeEachAdapter(() => {
  describe('GET /health', () => {
    it('should answer 200 with status ok in the terminus format', async () => {
      const server = await startServer();

      const res = await requestJson<{ status: string; info: unknown; details: unknown }>(
        `${server.url}/health`,
      );

      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        status: 'ok',
        info: expect.any(Object) as unknown,
        details: expect.any(Object) as unknown,
      });
    });

    it('should need no client id', async () => {
      const server = await startServer();
      const client = new JobsClient(server.url);
      await openSse(client.url('/status'));

      const res = await requestJson(`${server.url}/health`);

      expect(res.status).toBe(200);
    });
  });

  describe('GET /docs', () => {
    it('should serve an OpenAPI document listing the JSON endpoints', async () => {
      const server = await startServer();

      const res = await requestJson<OpenApiDocument>(`${server.url}/docs/openapi.json`);

      expect(res.status).toBe(200);
      expect(res.body.openapi).toMatch(/^3\./);
      const { paths } = res.body;
      expect(paths['/create']).toHaveProperty('post');
      expect(paths['/status/{id}']).toHaveProperty('get');
      expect(paths['/status']).toHaveProperty('get');
      expect(paths['/cancel/{id}']).toHaveProperty('post');
    });

    it('should serve the same document as YAML beside the JSON', async () => {
      const server = await startServer();

      const json = await requestJson<OpenApiDocument>(`${server.url}/docs/openapi.json`);
      const yaml = await fetch(`${server.url}/docs/openapi.yaml`);
      const text = await yaml.text();

      expect(yaml.status).toBe(200);
      expect(yaml.headers.get('content-type')).toMatch(/yaml/);
      expect(text).toMatch(/^openapi: 3\./m);
      for (const path of Object.keys(json.body.paths)) expect(text).toContain(`${path}:`);
    });

    it('should declare the API key as an opaque bearer token on every job operation', async () => {
      const server = await startServer();

      const { body } = await requestJson<OpenApiDocument>(`${server.url}/docs/openapi.json`);

      expect(body.components.securitySchemes).toEqual({
        apiKey: expect.objectContaining({ type: 'http', scheme: 'bearer' }) as unknown,
      });
      expect(body.components.securitySchemes.apiKey).not.toHaveProperty('bearerFormat');
      for (const [path, operations] of Object.entries(body.paths)) {
        for (const operation of Object.values(operations)) {
          expect(operation.security, path).toEqual(path === '/health' ? [] : [{ apiKey: [] }]);
        }
      }
    });

    it('should serve the docs page as HTML', async () => {
      const server = await startServer();

      const res = await fetch(`${server.url}/docs`);

      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    });

    it('should let no other site frame the docs page, and keep no key past the page (review of 2026-11-30)', async () => {
      const server = await startServer();

      for (const path of ['/docs', '/docs/swagger-ui-init.js']) {
        const res = await fetch(`${server.url}${path}`);
        expect(res.status, path).toBe(200);
        expect(res.headers.get('content-security-policy')).toBe("frame-ancestors 'none'");
        expect(res.headers.get('x-frame-options')).toBe('DENY');
        expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      }
      const init = await (await fetch(`${server.url}/docs/swagger-ui-init.js`)).text();
      expect(init).not.toContain('persistAuthorization');
    });

    it('should keep the page unframed however its path is written (review of 2026-12-01)', async () => {
      const server = await startServer();

      for (const path of ['/DOCS', '/d%6fcs', '/Docs/']) {
        const res = await fetch(`${server.url}${path}`);
        if (res.status !== 200) continue; // a router that does not take it: nothing to frame
        expect(res.headers.get('content-security-policy'), path).toBe("frame-ancestors 'none'");
        expect(res.headers.get('x-frame-options'), path).toBe('DENY');
      }
    });

    it('should answer a path that climbs out of /docs 404, not 500', async () => {
      const server = await startServer();

      for (const path of ['/docs/../health', '/docs/%2e%2e/%2e%2e/package.json']) {
        const connection = await RawConnection.open(server.url);
        connection.write(rawRequest('GET', path, { Connection: 'close' }));
        await connection.waitForClose();
        const [answer] = parseResponses(connection.received);
        expect(answer?.status, path).toBe(404);
        expect(JSON.parse(answer!.body)).toMatchObject({ code: 'NOT_FOUND' });
      }
    });
  });

  describe('CORS', () => {
    it('should answer a preflight with the allowed and exposed headers', async () => {
      const server = await startServer();

      const res = await fetch(`${server.url}/create`, {
        method: 'OPTIONS',
        headers: {
          Origin: 'https://app.example.com',
          'Access-Control-Request-Method': 'POST',
          'Access-Control-Request-Headers': 'content-type,idempotency-key,authorization',
        },
      });

      expect(res.status).toBeLessThan(300);
      expect(anyOrigin(res.headers.get('access-control-allow-origin'))).toBe(true);
      expect(list(res.headers.get('access-control-allow-methods'))).toContain('post');
      expect(list(res.headers.get('access-control-allow-headers'))).toEqual(
        expect.arrayContaining(ALLOWED.map((h) => h.toLowerCase())),
      );
      expect(list(res.headers.get('access-control-expose-headers'))).toEqual(
        expect.arrayContaining(EXPOSED.map((h) => h.toLowerCase())),
      );
    });

    it('should expose the poll hint headers on an actual cross-origin answer', async () => {
      const server = await startServer();
      const client = new JobsClient(server.url);

      const res = await requestJson(client.url('/create'), {
        method: 'POST',
        headers: { Origin: 'https://app.example.com' },
      });

      expect(res.status).toBe(201);
      expect(anyOrigin(res.headers.get('access-control-allow-origin'))).toBe(true);
      expect(list(res.headers.get('access-control-expose-headers'))).toEqual(
        expect.arrayContaining(EXPOSED.map((h) => h.toLowerCase())),
      );
    });

    it('should allow only the configured origins when CORS_ORIGINS is set', async () => {
      const server = await startServer({ CORS_ORIGINS: 'https://app.example.com' });
      const preflight = (origin: string): Promise<Response> =>
        fetch(`${server.url}/status`, {
          method: 'OPTIONS',
          headers: { Origin: origin, 'Access-Control-Request-Method': 'GET' },
        });

      const allowed = await preflight('https://app.example.com');
      const refused = await preflight('https://evil.example.com');

      expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
      expect(refused.headers.get('access-control-allow-origin')).toBeNull();
      // The answer depends on the origin, so a shared cache must not give one origin's to another.
      expect(list(allowed.headers.get('vary'))).toContain('origin');
      expect(list(refused.headers.get('vary'))).toContain('origin');
    });

    it('should answer a preflight before the API key is checked, on any path', async () => {
      const server = await startServer({ API_KEYS: 'secret-key' });

      const known = await fetch(`${server.url}/create`, {
        method: 'OPTIONS',
        headers: { Origin: 'https://app.example.com', 'Access-Control-Request-Method': 'POST' },
      });
      const unknown = await fetch(`${server.url}/no-such-route`, {
        method: 'OPTIONS',
        headers: { Origin: 'https://app.example.com', 'Access-Control-Request-Method': 'GET' },
      });

      for (const res of [known, unknown]) {
        expect(res.status).toBe(204);
        expect(res.headers.get('access-control-allow-origin')).toBe('*');
        expect(res.headers.get('access-control-max-age')).toBe('600');
        expect(await res.text()).toBe('');
      }
    });

    it('should put the CORS headers on refusals and 404s too, so a browser can read them', async () => {
      const server = await startServer({ API_KEYS: 'secret-key' });
      const origin = { Origin: 'https://app.example.com' };

      const refused = await fetch(`${server.url}/create`, { method: 'POST', headers: origin });
      const missing = await fetch(`${server.url}/no-such-route`, {
        headers: { ...origin, Authorization: 'Bearer secret-key' },
      });

      // Refused before routing: a path that cannot be decoded, a method no route takes.
      const undecodable = await fetch(`${server.url}/status/%ZZ`, { headers: origin });
      const method = await fetch(`${server.url}/create`, { method: 'PUT', headers: origin });

      expect(refused.status).toBe(401);
      expect(missing.status).toBe(404);
      expect(undecodable.status).toBe(401);
      expect(method.status).toBe(404);
      for (const res of [refused, missing, undecodable, method]) {
        expect(res.headers.get('access-control-allow-origin')).toBe('*');
        expect(list(res.headers.get('access-control-expose-headers'))).toContain('x-request-id');
        expect(res.headers.get('vary')).toBeNull();
      }
    });
  });
});
