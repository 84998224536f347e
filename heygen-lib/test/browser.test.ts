import { existsSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProxy, startTestServer, type Proxy, type RunningServer } from 'heygen-test-support';
import type * as Lib from '../src/index.js';
import type { JobStatus } from '../src/index.js';
import { launchChromium, startBundleSite, type BundleSite } from './support/browser-site.js';
import { eventually, expectStates } from './support/track.js';

// The built browser bundle (dist/index.browser.js, not the source) in headless Chromium, against the real server
// on another origin, so CORS is real.

const BUNDLE = new URL('../dist/index.browser.js', import.meta.url);

declare global {
  interface Window {
    lib: typeof Lib;
    scenario: Promise<unknown>;
  }
}

/** What a scenario in the page reports back. */
interface Outcome {
  statuses: string[][];
  stats: Lib.HeyGenStats;
  transportGlobal: boolean;
}

let server: RunningServer;
let proxy: Proxy;
let site: BundleSite;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  if (!existsSync(BUNDLE))
    throw new Error('dist/index.browser.js is missing: run `npm run build -w heygen-lib` first');
  server = await startTestServer({ JOB_TIME: '300', HEARTBEAT_MS: '250' });
  proxy = await startProxy({ target: { host: server.host, port: server.port } });
  site = await startBundleSite(BUNDLE, 'lib');
  browser = await launchChromium();
  page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(String(error)));
  await page.goto(site.url);
  await page.waitForFunction(() => 'lib' in window);
  expect(errors).toEqual([]);
});

afterAll(async () => {
  await browser?.close();
  await site?.close();
  await proxy?.close();
  await server?.stop('SIGKILL');
});

/** Runs jobs in the page and keeps the promise on `window.scenario`. */
const start = (url: string, mode: string, fallback: boolean, duration: number): Promise<void> =>
  page.evaluate(
    ({ url, mode, fallback, duration }) => {
      const { HeyGenAPI } = window.lib;
      const unhandled: unknown[] = [];
      window.addEventListener('unhandledrejection', (event) => unhandled.push(event.reason));
      const heygen = new HeyGenAPI({
        url,
        mode: mode as Lib.HeyGenStatusListenerMode,
        fallback,
        pollInterval: 50,
        retryDelay: 50,
      });
      (window as unknown as { heygen: Lib.HeyGenAPI }).heygen = heygen;
      window.scenario = (async () => {
        const ids = await Promise.all([1, 2, 3].map(() => heygen.createJob({ duration })));
        const statuses = ids.map(() => [] as string[]);
        ids.forEach((id, i) => heygen.listen(id, (_id, status) => statuses[i]!.push(status)));
        await Promise.all(ids.map((id) => heygen.waitForJob(id)));
        await new Promise((resolve) => setTimeout(resolve, 50));
        const outcome: Outcome = {
          statuses,
          stats: heygen.stats(),
          transportGlobal: typeof EventSource === 'function',
        };
        heygen.dispose();
        if (unhandled.length) throw new Error(`unhandled: ${String(unhandled)}`);
        return outcome;
      })();
    },
    { url, mode, fallback, duration },
  );

const outcome = () => page.evaluate(() => window.scenario) as Promise<Outcome>;

describe('heygen-lib in headless Chromium', () => {
  it.each(['auto', 'sse', 'poll'])('should run jobs to completion over CORS (%s)', async (mode) => {
    // Jobs long enough for the stream to open before they end on a loaded machine: a stream opened
    // later shows a change in its snapshot, not as a change.
    await start(server.url, mode, false, 1000);
    const { statuses, stats, transportGlobal } = await outcome();
    expect(transportGlobal).toBe(true);
    expect(statuses).toHaveLength(3);
    expectStates(statuses as JobStatus[][], mode === 'poll' ? 'poll' : 'sse');
    if (mode === 'poll') expect(stats.sse.streams).toBe(0);
    else expect(stats.poll.requests).toBe(0); // all over the one stream
  });

  it('should hold polls with no CORS preflight, however the ids change (review of 2026-12-01)', async () => {
    const lines: string[] = [];
    const stop = proxy.onRequest((line) => lines.push(line));
    try {
      // Default options: held waits on. Jobs one after another, so each poll lists new ids.
      const polled = await page.evaluate(async (url) => {
        const { HeyGenAPI, HeyGenStatusListenerMode } = window.lib;
        const heygen = new HeyGenAPI({ url, mode: HeyGenStatusListenerMode.POLL });
        const statuses: string[] = [];
        for (let i = 0; i < 3; i++) {
          const id = await heygen.createJob({ duration: 300 });
          statuses.push((await heygen.waitForJob(id)).status);
        }
        const { requests } = heygen.stats().poll;
        heygen.dispose();
        return { statuses, requests };
      }, proxy.url);

      expect(polled.statuses).toEqual(['completed', 'completed', 'completed']);
      const held = lines.filter((line) => /^GET \/status\?\S*[?&]wait=\d+/.test(line));
      expect(held.length).toBeGreaterThanOrEqual(3);
      // The creations' preflight (a JSON body) is the only one, cached for their one URL.
      expect(lines.filter((line) => line.startsWith('OPTIONS /status'))).toEqual([]);
    } finally {
      stop();
    }
  });

  it('should fall back to POLL when the proxy cuts the stream', async () => {
    await start(proxy.url, 'auto', true, 1500);
    await eventually(() => expect(proxy.openStreams).toBe(1));
    proxy.setMode('cut-streams');
    const { statuses, stats } = await outcome();
    proxy.setMode('pass');
    expect(statuses).toHaveLength(3);
    // Part of the run was polled.
    expectStates(statuses as JobStatus[][], 'poll');
    expect(stats.fallbacks).toBeGreaterThanOrEqual(1);
    expect(stats.poll.requests).toBeGreaterThan(0);
  });
});
