import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { requestJson } from './support/http.js';
import { startServer } from './support/server.js';
import { describeEachAdapter } from './support/adapters.js';
import { DASHBOARD_DIR } from '../src/dashboard/dashboard-files.js';

// How the server serves the dashboard (heygen-api/web/, built into dist/web), on both adapters.
// The page itself, in a real browser, is tested in dashboard-browser.e2e-spec.ts.

const IMMUTABLE = 'public, max-age=31536000, immutable';

/** The hashed assets index.html loads, e.g. `/assets/index-D5rM-Oxv.js`. */
const assetsOf = (html: string): string[] =>
  [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((match) => match[1]!);

const get = (url: string, headers: Record<string, string> = {}): Promise<Response> =>
  fetch(url, { headers });

describe('the dashboard build', () => {
  it('should exist: the root `npm run build` (or `npm run build -w heygen-api`) makes it', () => {
    expect(existsSync(`${DASHBOARD_DIR}/index.html`), DASHBOARD_DIR).toBe(true);
  });
});

describeEachAdapter(() => {
  describe('GET /', () => {
    it('should serve the page, revalidated on every load, with the scripts and styles it names', async () => {
      const server = await startServer();

      const res = await get(`${server.url}/`);
      const html = await res.text();

      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(res.headers.get('cache-control')).toBe('no-cache');
      expect(res.headers.get('etag')).toMatch(/^"[\w-]+"$/);
      expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
      expect(html).toContain('<title>heygen dashboard</title>');
      const assets = assetsOf(html);
      expect(assets.some((path) => path.endsWith('.js'))).toBe(true);
      expect(assets.some((path) => path.endsWith('.css'))).toBe(true);
    });

    it('should vary by Origin and by Accept-Encoding with a CORS_ORIGINS list', async () => {
      const server = await startServer({ CORS_ORIGINS: 'https://a.example,https://b.example' });

      const res = await get(`${server.url}/`, { Origin: 'https://a.example' });

      expect(res.status).toBe(200);
      expect(res.headers.get('access-control-allow-origin')).toBe('https://a.example');
      expect(res.headers.get('vary')?.split(/,\s*/)).toEqual(['Origin', 'Accept-Encoding']);
    });

    it('should answer 304 to a revalidation with the current ETag', async () => {
      const server = await startServer();
      const etag = (await get(`${server.url}/`)).headers.get('etag')!;

      const res = await get(`${server.url}/`, { 'If-None-Match': etag });

      expect(res.status).toBe(304);
      expect(res.headers.get('cache-control')).toBe('no-cache');
    });

    it('should serve hashed assets as immutable for a year, gzipped when asked', async () => {
      const server = await startServer();
      const assets = assetsOf(await (await get(`${server.url}/`)).text());

      for (const path of assets) {
        expect(path).toMatch(/^\/assets\/[\w.-]+-[\w-]{8,}\.(js|css)$/);
        const res = await get(`${server.url}${path}`, { 'Accept-Encoding': 'gzip' });
        expect(res.status, path).toBe(200);
        expect(res.headers.get('cache-control'), path).toBe(IMMUTABLE);
        expect(res.headers.get('content-encoding'), path).toBe('gzip');
        expect(res.headers.get('vary'), path).toBe('Accept-Encoding');
        expect(res.headers.get('content-type'), path).toMatch(
          path.endsWith('.js') ? /^text\/javascript/ : /^text\/css/,
        );
        // fetch decoded it: the body is the asset itself.
        expect((await res.text()).length, path).toBeGreaterThan(100);
      }
    });

    it('should send plain bytes to a client that does not accept gzip', async () => {
      const server = await startServer();

      const res = await get(`${server.url}/`, { 'Accept-Encoding': 'identity' });

      expect(res.headers.get('content-encoding')).toBeNull();
      expect(await res.text()).toContain('<title>heygen dashboard</title>');
    });

    it("should answer an unknown asset, and any other path, with the API's JSON 404", async () => {
      const server = await startServer();

      for (const path of ['/assets/nope-12345678.js', '/index.htm', '/nope', '/assets/']) {
        const res = await requestJson(`${server.url}${path}`);
        expect(res.status, path).toBe(404);
        expect(res.body, path).toMatchObject({ statusCode: 404, code: 'NOT_FOUND' });
      }
      const post = await requestJson(`${server.url}/`, { method: 'POST' });
      expect(post.status).toBe(404);
      expect(post.body).toMatchObject({ code: 'NOT_FOUND' });
    });

    it('should need no API key, while the API still does', async () => {
      const server = await startServer({ API_KEYS: 'secret' });
      const html = await (await get(`${server.url}/`)).text();

      for (const path of ['/', ...assetsOf(html)]) {
        expect((await get(`${server.url}${path}`)).status, path).toBe(200);
      }
      const create = await requestJson(`${server.url}/create?uuid=${crypto.randomUUID()}`, {
        method: 'POST',
      });
      expect(create.status).toBe(401);
    });

    it('should answer the JSON 404 with DASHBOARD=off', async () => {
      const server = await startServer({ DASHBOARD: 'off' });

      const res = await requestJson(`${server.url}/`);

      expect(res.status).toBe(404);
      expect(res.body).toMatchObject({ statusCode: 404, code: 'NOT_FOUND' });
    });

    it('should stay out of the OpenAPI document', async () => {
      const server = await startServer();

      const res = await requestJson<{ paths: Record<string, unknown> }>(
        `${server.url}/docs/openapi.json`,
      );

      expect(Object.keys(res.body.paths)).not.toContain('/');
      expect(Object.keys(res.body.paths).some((path) => path.startsWith('/assets'))).toBe(false);
    });
  });
});
