import { existsSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { minify } from 'vite';
import { describe, expect, it } from 'vitest';
import { SIZE_BUDGET } from '../scripts/size-budget.mjs';

// The size budget (issue 3) as part of the test command: the browser build (what the `browser`
// export condition gives a web app), minified and gzipped, within scripts/size-budget.mjs. `npm run size` prints
// the same numbers for both builds.

const BUNDLE = new URL('../dist/index.browser.js', import.meta.url);
const NODE_BUNDLE = new URL('../dist/index.js', import.meta.url);

describe('bundle size', () => {
  it('should keep the browser bundle within its budget, minified and gzipped', async () => {
    expect(existsSync(BUNDLE), 'run `npm run build -w heygen-lib` first').toBe(true);
    const { code } = await minify('index.js', readFileSync(BUNDLE, 'utf8'), {});
    expect(gzipSync(code, { level: 9 }).length).toBeLessThanOrEqual(SIZE_BUDGET);
  });

  it('should have no runtime dependencies', () => {
    const pkg = JSON.parse(
      readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
    ) as Record<string, unknown>;
    expect(pkg.dependencies).toBeUndefined();
    for (const bundle of [BUNDLE, NODE_BUNDLE]) {
      expect(readFileSync(bundle, 'utf8')).not.toMatch(/^import .* from/m);
    }
  });

  it('should leave SSE over fetch out of the browser bundle only', () => {
    // fetch-connect.ts reads the body with a TextDecoder; nothing else in the library does.
    expect(readFileSync(BUNDLE, 'utf8')).not.toContain('TextDecoder');
    expect(readFileSync(NODE_BUNDLE, 'utf8')).toContain('TextDecoder');
  });
});
