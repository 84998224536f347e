import { existsSync } from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type RunningServer } from 'heygen-test-support';
import type * as Lib from '../src/tabs.js';
import type { JobStatus } from '../src/tabs.js';
import { launchChromium, startBundleSite, type BundleSite } from './support/browser-site.js';

/** The built tabs bundle (dist/tabs.js, not the source), as a web app would load it. */
const TABS_BUNDLE = new URL('../dist/tabs.js', import.meta.url);
import { eventually, expectStates } from './support/track.js';

// heygen-lib/tabs, built (dist/tabs.js), in headless Chromium against the real server on another
// origin. Pages of one browser context share localStorage, Web Locks and BroadcastChannel, as the
// tabs of one profile do; the server is reached over HTTP/1.1 (plain http), so Chromium's limit of
// 6 connections per host applies to it.

declare global {
  interface Window {
    tabsLib: typeof Lib;
    heygen: Lib.HeyGenAPI;
    /** Statuses seen per job, and when this page's role changed (epoch ms). */
    seen: Record<number, JobStatus[]>;
    roles: { role: Lib.TabRole; at: number }[];
    /** When each job update (status or progress) reached this page (epoch ms). */
    updates: number[];
    run: (count: number, duration: number) => Promise<number[]>;
  }
}

let server: RunningServer;
let site: BundleSite;
let browser: Browser;
let context: BrowserContext | undefined;

beforeAll(async () => {
  if (!existsSync(TABS_BUNDLE))
    throw new Error('dist/tabs.js is missing: run `npm run build -w heygen-lib` first');
  server = await startTestServer({ JOB_TIME: '300', HEARTBEAT_MS: '250' });
  site = await startBundleSite(TABS_BUNDLE, 'tabsLib');
  browser = await launchChromium();
});

afterEach(async () => {
  await context?.close();
  context = undefined;
});

afterAll(async () => {
  await browser?.close();
  await site?.close();
  await server?.stop('SIGKILL');
});

const openStreams = async (): Promise<number> => {
  const health = (await (await fetch(`${server.url}/health`)).json()) as {
    info: { jobs: { openStreams: number } };
  };
  return health.info.jobs.openStreams;
};

/** Opens `count` pages one after the other (so the first one's stored client id is read by all). */
const openPages = async (
  count: number,
  options: { mode: string; share: boolean },
): Promise<Page[]> => {
  context = await browser.newContext();
  const pages: Page[] = [];
  for (let i = 0; i < count; i++) {
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(String(error)));
    await page.goto(site.url);
    await page.waitForFunction(() => 'tabsLib' in window);
    await page.evaluate(
      ({ url, mode, share }) => {
        window.seen = {};
        window.roles = [];
        window.updates = [];
        window.heygen = new window.tabsLib.HeyGenAPI({
          url,
          mode: mode as Lib.HeyGenStatusListenerMode,
          shareAcrossTabs: share,
          pollInterval: 50,
          retryDelay: 50,
          onRoleChange: (role) => window.roles.push({ role, at: Date.now() }),
        });
        window.run = async (count, duration) => {
          const { heygen } = window;
          const ids = await Promise.all(
            Array.from({ length: count }, () => heygen.createJob({ duration })),
          );
          for (const id of ids) {
            window.seen[id] = [];
            heygen.listen(id, (id, status) => window.seen[id]!.push(status));
          }
          const onProgress = () => void window.updates.push(Date.now());
          await Promise.all(ids.map((id) => heygen.waitForJob(id, { onProgress })));
          return ids;
        };
      },
      { url: server.url, mode: options.mode, share: options.share },
    );
    expect(errors).toEqual([]);
    pages.push(page);
  }
  return pages;
};

const role = (page: Page) => page.evaluate(() => window.heygen.role);
const seen = (page: Page) =>
  page.evaluate(() => window.seen) as Promise<Record<string, JobStatus[]>>;

describe('heygen-lib/tabs in headless Chromium', () => {
  it.each(['sse', 'poll'])(
    'should give five pages of one origin one client id and one %s connection',
    async (mode) => {
      const pages = await openPages(5, { mode, share: true });
      const ids = await Promise.all(
        pages.map((page) => page.evaluate(() => window.heygen.clientId)),
      );
      expect(new Set(ids).size).toBe(1);
      await eventually(async () =>
        expect((await Promise.all(pages.map(role))).sort()).toEqual([
          'follower',
          'follower',
          'follower',
          'follower',
          'leader',
        ]),
      );
      const runs = pages.map((page) => page.evaluate(() => window.run(2, 1200)));
      if (mode === 'sse') await eventually(async () => expect(await openStreams()).toBe(1));
      let streamsDuringRun = await openStreams();
      await Promise.all(runs);
      streamsDuringRun = Math.max(streamsDuringRun, await openStreams());
      const stats = await Promise.all(
        pages.map((page) => page.evaluate(() => window.heygen.stats())),
      );
      for (const page of pages)
        expectStates(Object.values(await seen(page)), mode as 'sse' | 'poll');
      const streams = stats.reduce((sum, s) => sum + s.sse.streams, 0);
      const polls = stats.map((s) => s.poll.requests);
      if (mode === 'sse') {
        expect(streamsDuringRun).toBe(1);
        expect(streams).toBe(1);
        expect(polls.every((n) => n === 0)).toBe(true);
      } else {
        expect(streams).toBe(0);
        // Only the leader polls, for the ids of every page.
        expect(polls.filter((n) => n > 0)).toHaveLength(1);
      }
    },
  );

  it('should hand over when the leader page closes mid-job, with every job completed once in every page', async () => {
    const pages = await openPages(5, { mode: 'sse', share: true });
    await eventually(async () =>
      expect((await Promise.all(pages.map(role))).includes('leader')).toBe(true),
    );
    const runs = pages.map((page) => page.evaluate(() => window.run(2, 2500)).catch(() => []));
    // Mid-job: every page's jobs are running.
    await eventually(async () => {
      for (const page of pages) {
        const states = Object.values(await seen(page));
        expect(states).toHaveLength(2);
        for (const s of states) expect(s).toContain('running');
      }
    });
    const roles = await Promise.all(pages.map(role));
    const leader = pages[roles.indexOf('leader')]!;
    const rest = pages.filter((page) => page !== leader);
    const closedAt = Date.now();
    await leader.close();
    await Promise.all(runs.filter((_, i) => pages[i] !== leader));
    const took = await Promise.all(
      rest.map((page) => page.evaluate(() => window.roles.find((r) => r.role === 'leader')?.at)),
    );
    const newLeaderAt = took.find((at) => at !== undefined);
    expect(newLeaderAt).toBeDefined();
    const nextUpdate = await Promise.all(
      rest.map((page) =>
        page.evaluate((after) => window.updates.find((at) => at > after), closedAt),
      ),
    );
    const slowest = Math.max(...nextUpdate.map((at) => at! - closedAt));
    console.log(
      `hand-over: a new leader ${newLeaderAt! - closedAt} ms after the leader page closed; ` +
        `the next update reached every page within ${slowest} ms`,
    );
    expect(newLeaderAt! - closedAt).toBeLessThan(1000);
    for (const page of rest) expectStates(Object.values(await seen(page)), 'sse');
    expect(await openStreams()).toBeLessThanOrEqual(1);
  });

  it('should run seven pages without sharing over HTTP/1.1 (6 connections per host)', async () => {
    const pages = await openPages(7, { mode: 'sse', share: false });
    expect(await Promise.all(pages.map(role))).toEqual(Array(7).fill('alone'));
    const started = Date.now();
    // Each page creates its job first, then opens its stream: 6 streams hold Chromium's 6
    // connections to the server, and the 7th waits for one of them to close.
    const runs = await Promise.all(pages.map((page) => page.evaluate(() => window.run(1, 1000))));
    console.log(`seven pages without sharing: every job done in ${Date.now() - started} ms`);
    expect(runs.flat()).toHaveLength(7);
    // The 7th page's stream opens late (its snapshot may already say `completed`): every page
    // still sees each job move forward to its end once, like a poll.
    for (const page of pages) expectStates(Object.values(await seen(page)), 'poll');
    await eventually(async () => expect(await openStreams()).toBe(0));
  });
});
