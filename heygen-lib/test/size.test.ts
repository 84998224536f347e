import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type * as Entry from '../src/index.js';
import { jobStub } from './support/fakes.js';

// What the builds may contain. Their size is size-limit's (the `size-limit` section of
// package.json, run by `npm run check`, part of the test command).

const BUNDLE = new URL('../dist/index.browser.js', import.meta.url);
const NODE_BUNDLE = new URL('../dist/index.js', import.meta.url);

describe('bundle contents', () => {
  it('should have no runtime dependencies', () => {
    expect(existsSync(BUNDLE), 'run `npm run build -w heygen-lib` first').toBe(true);
    const pkg = JSON.parse(
      readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
    ) as Record<string, unknown>;
    expect(pkg.dependencies).toBeUndefined();
    for (const bundle of [BUNDLE, NODE_BUNDLE]) {
      expect(readFileSync(bundle, 'utf8')).not.toMatch(/^import .* from/m);
    }
  });

  it('should leave SSE over fetch out of the browser bundle only', () => {
    // The bundles are not minified: fetch-connect.ts's function keeps its name.
    expect(readFileSync(BUNDLE, 'utf8')).not.toContain('fetchConnect');
    expect(readFileSync(NODE_BUNDLE, 'utf8')).toContain('fetchConnect');
  });

  it("should give heygen-lib/tabs' errors to instanceof with the main entry's classes", async () => {
    // dist/tabs.js bundles its own copy of every class: an app may still import them from either.
    const main = (await import(NODE_BUNDLE.href)) as typeof Entry;
    const tabs = (await import(new URL('../dist/tabs.js', import.meta.url).href)) as typeof Entry;
    expect(tabs.JobNotFoundError).not.toBe(main.JobNotFoundError);
    expect(new tabs.JobNotFoundError(1)).toBeInstanceOf(main.JobNotFoundError);
    expect(new tabs.JobFailedError(jobStub(1, 'failed', 3))).toBeInstanceOf(main.HeyGenError);
    expect(new main.HttpError(500, 'x')).toBeInstanceOf(tabs.HttpError);
    expect(new main.HttpError(500, 'x')).not.toBeInstanceOf(tabs.JobNotFoundError);
  });
});
