import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

/**
 * Where Vite writes the dashboard (heygen-api/web/vite.config.ts): `heygen-api/dist/web`, reached
 * by the same relative path from src/dashboard (tests) and dist/dashboard (the build).
 */
export const DASHBOARD_DIR = fileURLToPath(new URL('../../dist/web/', import.meta.url));

/** A year: the longest max-age caches honour; a hashed asset never changes under its name. */
const IMMUTABLE = 'public, max-age=31536000, immutable';
/** The page itself: cached, but revalidated (ETag) every time, so a new build shows at once. */
const REVALIDATE = 'no-cache';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

/** One file of the dashboard, ready to send: bytes, gzipped bytes, and its headers. */
export interface DashboardFile {
  body: Buffer;
  /** The body gzipped once at start, or undefined when that does not make it smaller. */
  gzip: Buffer | undefined;
  etag: string;
  type: string;
  cacheControl: string;
}

/** The built dashboard, by URL path (`/` and `/assets/<name>`): a few files, held in memory. */
export interface DashboardFiles {
  /** False when heygen-api/dist/web has not been built: every path then answers 404. */
  built: boolean;
  get(path: string): DashboardFile | undefined;
}

function prepare(body: Buffer, type: string, cacheControl: string): DashboardFile {
  const gzip = gzipSync(body, { level: 9 });
  return {
    body,
    gzip: gzip.length < body.length ? gzip : undefined,
    etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
    type,
    cacheControl,
  };
}

/**
 * Reads the built dashboard once, at start: `index.html` and every file of `assets/` (Vite names
 * each after a hash of its content). Source maps and unknown types are left out.
 */
export function loadDashboardFiles(dir: string = DASHBOARD_DIR): DashboardFiles {
  const files = new Map<string, DashboardFile>();
  const index = join(dir, 'index.html');
  if (!existsSync(index)) return { built: false, get: () => undefined };
  files.set('/', prepare(readFileSync(index), TYPES['.html']!, REVALIDATE));
  const assets = join(dir, 'assets');
  for (const name of existsSync(assets) ? readdirSync(assets) : []) {
    const type = TYPES[extname(name)];
    if (type)
      files.set(`/assets/${name}`, prepare(readFileSync(join(assets, name)), type, IMMUTABLE));
  }
  return { built: true, get: (path) => files.get(path) };
}

/** Whether an `Accept-Encoding` header accepts gzip (RFC 9110 §12.5.3: `q=0` refuses it). */
export function acceptsGzip(header: string | undefined): boolean {
  for (const part of (header ?? '').split(',')) {
    const [coding, ...params] = part.split(';').map((item) => item.trim().toLowerCase());
    if (coding !== 'gzip' && coding !== '*') continue;
    const q = params.find((param) => param.startsWith('q='));
    return q === undefined || Number(q.slice(2)) > 0;
  }
  return false;
}
