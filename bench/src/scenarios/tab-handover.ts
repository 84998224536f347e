import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { launchChromium } from 'heygen-test-support/chromium';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import type * as Tabs from 'heygen-lib/tabs';
import { startServer } from '../server.js';
import { distribution, sleep, type Distribution } from '../stats.js';

export interface TabHandoverOptions {
  /** Pages open at any time, all of one origin with sharing on. */
  pages: number;
  /** How many times the leader page is closed (and a new page opened in its place). */
  handovers: number;
  /** Run time of the job each hand-over round watches; it progresses every 100 ms. */
  jobTimeMs: number;
}

export interface TabHandoverResult {
  pages: number;
  handovers: number;
  /** Leader page closed → the next job update (status or progress) reaches a remaining page, ms. */
  nextUpdateMs: Distribution;
  /** Remaining pages that got no update within 10 s of the close. */
  noNextUpdate: number;
  /**
   * Final statuses expected: one per job per page that stayed open through its hand-over; counted
   * when that page closes (as the next leader) or at the end.
   */
  finals: { expected: number; lost: number; duplicated: number };
  pageErrors: number;
}

// The built tabs entry (dist/tabs.js), as a web app loads it; the same from src/ and dist/.
const TABS_BUNDLE = fileURLToPath(new URL('../../../heygen-lib/dist/tabs.js', import.meta.url));
const PROGRESS_INTERVAL_MS = 100;
const NEXT_UPDATE_TIMEOUT_MS = 10_000;

/** What a page keeps on globalThis (the bench has no DOM types: the page is reached through this). */
interface PageState {
  tabsLib: typeof Tabs;
  heygen: Tabs.HeyGenAPI;
  /** Per job: when each update (status or progress) reached this page, epoch ms. */
  updates: Record<number, number[]>;
  /** Per job: how many final statuses this page's listen() callback got. */
  finals: Record<number, number>;
  watch(id: number): void;
}

/**
 * The page's own site (another origin than the server, as in heygen-lib/test/tabs.test.ts, whose
 * helper lives in heygen-lib's tests and cannot be imported from here): a page importing the
 * bundle.
 */
async function startSite(): Promise<{ url: string; close(): Promise<void> }> {
  const code = readFileSync(TABS_BUNDLE, 'utf8');
  const site = createServer((req, res) => {
    if (req.url === '/bundle.js')
      res.writeHead(200, { 'Content-Type': 'text/javascript' }).end(code);
    else
      res
        .writeHead(200, { 'Content-Type': 'text/html' })
        .end(
          `<!doctype html><title>tabs</title><script type="module">` +
            `import * as lib from '/bundle.js'; window.tabsLib = lib;</script>`,
        );
  });
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(site.address() as AddressInfo).port}/`,
    close: () => new Promise((resolve) => site.close(() => resolve())),
  };
}

/** Polls `check` until it is true, or gives up after `timeoutMs`. */
async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await sleep(20);
  }
  return false;
}

/**
 * Scenario 8 (issue 12): `pages` pages of one origin share one stream (heygen-lib/tabs, the
 * library's defaults); each round they all watch a fresh job, the leader page is closed mid-job,
 * and each remaining page notes when its next update arrives; then a new page replaces it.
 */
export async function runTabHandover({
  pages: count,
  handovers,
  jobTimeMs,
}: TabHandoverOptions): Promise<TabHandoverResult> {
  const server = await startServer({
    env: { PROGRESS_INTERVAL_MS: String(PROGRESS_INTERVAL_MS) },
  });
  const site = await startSite();
  let browser: Browser | undefined;
  try {
    browser = await launchChromium();
    const context: BrowserContext = await browser.newContext();
    let pageErrors = 0;
    const openPage = async (): Promise<Page> => {
      const page = await context.newPage();
      page.on('pageerror', () => (pageErrors += 1));
      await page.goto(site.url);
      await page.waitForFunction(() => 'tabsLib' in globalThis);
      await page.evaluate((url) => {
        const s = globalThis as unknown as PageState;
        s.updates = {};
        s.finals = {};
        s.heygen = new s.tabsLib.HeyGenAPI({
          url,
          mode: s.tabsLib.HeyGenStatusListenerMode.AUTO,
          shareAcrossTabs: true,
        });
        s.watch = (id) => {
          const updates: number[] = (s.updates[id] = []);
          s.finals[id] = 0;
          s.heygen.listen(id, (_, status) => {
            updates.push(Date.now());
            if (status === 'completed' || status === 'failed' || status === 'cancelled')
              s.finals[id]! += 1;
          });
          s.heygen
            .waitForJob(id, { onProgress: () => void updates.push(Date.now()) })
            .catch(() => {});
        };
      }, server.url);
      return page;
    };

    let pages: Page[] = [];
    for (let i = 0; i < count; i++) pages.push(await openPage());
    const delays: number[] = [];
    let noNextUpdate = 0;
    /** Every (page, job) whose final status must arrive exactly once, until it is counted. */
    let watched: { page: Page; id: number }[] = [];
    /** Final statuses each (page, job) got: counted when the page closes, or at the end. */
    const finals: number[] = [];
    const tally = async (of: (page: Page) => boolean): Promise<void> => {
      for (const { page, id } of watched.filter(({ page }) => of(page)))
        finals.push(
          await page.evaluate((id) => (globalThis as unknown as PageState).finals[id]!, id),
        );
      watched = watched.filter(({ page }) => !of(page));
    };

    for (let round = 0; round < handovers; round++) {
      const id = await pages[0]!.evaluate(
        (duration) => (globalThis as unknown as PageState).heygen.createJob({ duration }),
        jobTimeMs,
      );
      await Promise.all(
        pages.map((page) =>
          page.evaluate((id) => (globalThis as unknown as PageState).watch(id), id),
        ),
      );
      // Mid-job: every page has had an update for it, and one of them leads.
      let roles: string[] = [];
      await until(async () => {
        const seen = await Promise.all(
          pages.map((page) =>
            page.evaluate((id) => (globalThis as unknown as PageState).updates[id]!.length, id),
          ),
        );
        roles = await Promise.all(
          pages.map((page) =>
            page.evaluate(() => (globalThis as unknown as PageState).heygen.role),
          ),
        );
        return seen.every((n) => n > 0) && roles.includes('leader');
      }, 10_000);
      const leader = pages[roles.indexOf('leader')] ?? pages[0]!;
      const rest = pages.filter((page) => page !== leader);
      await tally((page) => page === leader);
      const closedAt = Date.now();
      await leader.close();
      const next = rest.map(() => NaN);
      await until(async () => {
        await Promise.all(
          rest.map(async (page, i) => {
            if (!Number.isNaN(next[i])) return;
            const at = await page.evaluate(
              ([id, after]) =>
                (globalThis as unknown as PageState).updates[id!]!.find((t) => t > after!),
              [id, closedAt],
            );
            if (at !== undefined) next[i] = at - closedAt;
          }),
        );
        return next.every((d) => !Number.isNaN(d));
      }, NEXT_UPDATE_TIMEOUT_MS);
      for (const d of next) {
        if (Number.isNaN(d)) noNextUpdate += 1;
        else delays.push(d);
      }
      // This round's job to its end in every remaining page, before the next leader closes.
      await until(async () => {
        const got = await Promise.all(
          rest.map((page) =>
            page.evaluate((id) => (globalThis as unknown as PageState).finals[id]!, id),
          ),
        );
        return got.every((n) => n > 0);
      }, jobTimeMs + 10_000);
      for (const page of rest) watched.push({ page, id });
      pages = [...rest, await openPage()];
    }

    // A moment for any late duplicate, then the pages still open.
    await sleep(500);
    await tally(() => true);
    return {
      pages: count,
      handovers,
      nextUpdateMs: distribution(delays),
      noNextUpdate,
      finals: {
        expected: finals.length,
        lost: finals.filter((n) => n === 0).length,
        duplicated: finals.filter((n) => n > 1).length,
      },
      pageErrors,
    };
  } finally {
    await browser?.close();
    await site.close();
    await server.stop();
  }
}
