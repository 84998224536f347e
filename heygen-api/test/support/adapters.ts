import { beforeAll, describe } from 'vitest';
import { type HttpAdapter } from '../../src/config/app-config.js';

const ALL: readonly HttpAdapter[] = ['fastify', 'express'];

/**
 * The HTTP adapters the e2e suite runs on: both by default, or those TEST_HTTP_ADAPTERS lists
 * (`TEST_HTTP_ADAPTERS=express npx vitest run --project heygen-api` runs one alone).
 */
export const ADAPTERS: readonly HttpAdapter[] = (() => {
  const wanted = process.env.TEST_HTTP_ADAPTERS?.split(',').map((name) => name.trim());
  if (!wanted) return ALL;
  const unknown = wanted.filter((name) => !ALL.includes(name as HttpAdapter));
  if (unknown.length > 0) throw new Error(`TEST_HTTP_ADAPTERS: unknown ${unknown.join(', ')}`);
  return wanted as HttpAdapter[];
})();

let current: HttpAdapter = ADAPTERS[0] ?? 'fastify';

/** The adapter of the suite running now: the servers a test starts use it. */
export const currentAdapter = (): HttpAdapter => current;

/**
 * Runs `suite` once per adapter, one after the other (issue 10: one e2e suite, every adapter; the
 * way BullMQ runs one suite against several connections). The tests of a file run in order, so
 * the adapter set before a block holds for all its tests.
 */
export function describeEachAdapter(suite: () => void): void {
  describe.each(ADAPTERS)('on %s', (adapter) => {
    beforeAll(() => {
      current = adapter;
    });
    suite();
  });
}
