import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { acceptsGzip, loadDashboardFiles } from './dashboard-files.js';

describe(loadDashboardFiles.name, () => {
  let dir: string;

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const build = (files: Record<string, string>): string => {
    dir = mkdtempSync(join(tmpdir(), 'heygen-dashboard-'));
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(join(dir, path, '..'), { recursive: true });
      writeFileSync(join(dir, path), text);
    }
    return dir;
  };

  it('should say it is not built when index.html is missing', () => {
    const files = loadDashboardFiles(build({}));

    expect(files.built).toBe(false);
    expect(files.get('/')).toBeUndefined();
  });

  it('should revalidate the page and keep hashed assets for a year', () => {
    const script = 'console.log("dashboard");\n'.repeat(20);
    const files = loadDashboardFiles(
      build({
        'index.html': '<!doctype html><title>x</title>',
        'assets/index-AbCd1234.js': script,
        'assets/index-AbCd1234.js.map': '{}',
        'assets/notes.txt': 'not served',
      }),
    );

    expect(files.built).toBe(true);
    expect(files.get('/')).toMatchObject({
      type: 'text/html; charset=utf-8',
      cacheControl: 'no-cache',
    });
    const asset = files.get('/assets/index-AbCd1234.js')!;
    expect(asset).toMatchObject({
      type: 'text/javascript; charset=utf-8',
      cacheControl: 'public, max-age=31536000, immutable',
    });
    expect(gunzipSync(asset.gzip!).toString()).toBe(script);
    expect(asset.etag).toMatch(/^"[\w-]{22}"$/);
    expect(files.get('/assets/index-AbCd1234.js.map')).toBeUndefined();
    expect(files.get('/assets/notes.txt')).toBeUndefined();
    expect(files.get('/index.html')).toBeUndefined();
  });

  it('should keep no gzip copy that is not smaller', () => {
    const files = loadDashboardFiles(build({ 'index.html': 'x' }));

    expect(files.get('/')!.gzip).toBeUndefined();
  });
});

describe(acceptsGzip.name, () => {
  it.each([
    ['gzip, deflate, br', true],
    ['br;q=1.0, gzip;q=0.8', true],
    ['*', true],
    ['GZIP', true],
    ['gzip;q=0', false],
    ['identity', false],
    ['', false],
    [undefined, false],
  ])('should read %j as %s', (header, accepted) => {
    expect(acceptsGzip(header)).toBe(accepted);
  });
});
