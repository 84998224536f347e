import { AxeBuilder } from '@axe-core/playwright';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type RunningServer } from 'heygen-test-support';
import { launchChromium } from 'heygen-test-support/chromium';

// The dashboard (heygen-api/web/) in headless Chromium against the built server: every step
// through the accessible names a person (or a screen reader) uses. Run with UPDATE_SCREENSHOT=1
// to rewrite docs/dashboard.png; otherwise the screenshot goes to .test-results/.

const ROOT = new URL('../../', import.meta.url);
const SCREENSHOT = fileURLToPath(
  new URL(
    process.env.UPDATE_SCREENSHOT ? 'docs/dashboard.png' : '.test-results/dashboard.png',
    ROOT,
  ),
);
/** The issue's target: the first load, page and assets, at most 50 KB over the wire. */
const FIRST_LOAD_BUDGET = 50 * 1024;
const WAIT = { timeout: 20_000 };

let browser: Browser;
/** What the pages of the running test printed as errors. */
let errors: string[] = [];
let context: BrowserContext | undefined;

beforeAll(async () => {
  browser = await launchChromium();
});

afterEach(async () => {
  await context?.close();
  context = undefined;
});

afterAll(async () => {
  await browser?.close();
});

async function openDashboard(url: string): Promise<Page> {
  if (!context) {
    context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
    // Every page of the context, a tab the page opens included.
    context.on('page', watchErrors);
  }
  const page = await context.newPage();
  await page.goto(url);
  await expect.poll(() => role(page), WAIT).toMatch(/^(leader|follower)/);
  return page;
}

function watchErrors(page: Page): void {
  page.on('pageerror', (error) => errors.push(`pageerror: ${String(error)}`));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()}`);
  });
}

const output = (page: Page, name: string): Promise<string | null> =>
  page.getByRole('status', { name, exact: true }).textContent();
const role = (page: Page): Promise<string | null> => output(page, "This tab's role");
const connection = (page: Page): Promise<string | null> => output(page, 'Connection state');

/** Fills the form and presses "Create job"; returns the ids the page says it created. */
async function createJobs(
  page: Page,
  { count, duration, fail = 0 }: { count: number; duration: number; fail?: number },
): Promise<number[]> {
  await page.getByLabel('How many', { exact: true }).fill(String(count));
  await page.getByLabel('Duration (ms)').fill(String(duration));
  await page.getByLabel('How many fail').fill(String(fail));
  await page.getByRole('button', { name: 'Create job' }).click();
  const created = page.getByText(/^Created jobs? /);
  await created.waitFor(WAIT);
  const text = (await created.textContent()) ?? '';
  return [...text.matchAll(/#(\d+)/g)].map((match) => Number(match[1]));
}

/** The cells of a job's row in the Jobs table: state, progress, delay, transport. */
function jobRow(page: Page, id: number): Record<'state' | 'delay' | 'transport', Locator> {
  const row = page
    .getByRole('table', { name: 'Jobs' })
    .getByRole('row')
    .filter({ has: page.getByRole('rowheader', { name: `#${id}`, exact: true }) });
  const cell = (index: number): Locator => row.getByRole('cell').nth(index);
  return { state: cell(0), delay: cell(2), transport: cell(3) };
}

async function expectFinished(page: Page, id: number, status = 'completed'): Promise<void> {
  const row = jobRow(page, id);
  await expect.poll(() => row.state.textContent(), WAIT).toBe(status);
  expect(await row.delay.textContent()).toMatch(/^\d+ ms$/);
  expect(await row.transport.textContent()).toMatch(/^(SSE|POLL)$/);
}

/** The requests and bytes of one row of the cost table ("SSE", "Polling", "Calls …"). */
async function cost(page: Page, channel: string): Promise<{ requests: number; bytes: number }> {
  const row = page
    .getByRole('table', { name: /Requests and bytes per transport/ })
    .getByRole('row')
    .filter({ has: page.getByRole('rowheader', { name: channel }) });
  const number = async (index: number): Promise<number> =>
    Number(((await row.getByRole('cell').nth(index).textContent()) ?? '').replace(/[^\d]/g, ''));
  return { requests: await number(0), bytes: await number(1) };
}

const openStreams = async (server: RunningServer): Promise<number> => {
  const health = (await (await fetch(`${server.url}/health`)).json()) as {
    info: { jobs: { openStreams: number } };
  };
  return health.info.jobs.openStreams;
};

describe('the dashboard in Chromium (fastify)', () => {
  let server: RunningServer;

  beforeAll(async () => {
    server = await startTestServer({ HTTP_ADAPTER: 'fastify' });
  });

  afterEach(() => {
    // No test may leave an error in the console: CSP refusals and failed loads included.
    expect(errors).toEqual([]);
    errors = [];
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('should load in at most 50 KB over the wire, the library included', async () => {
    context = await browser.newContext();
    const page = await context.newPage();
    watchErrors(page);
    const loads: Promise<{ url: string; bytes: number; encoding: string | undefined }>[] = [];
    page.on('response', (response) => {
      const { pathname } = new URL(response.url());
      if (pathname !== '/' && !pathname.startsWith('/assets/')) return;
      loads.push(
        response
          .request()
          .sizes()
          .then((sizes) => ({
            url: pathname,
            bytes: sizes.responseBodySize + sizes.responseHeadersSize,
            encoding: response.headers()['content-encoding'],
          })),
      );
    });
    await page.goto(server.url, { waitUntil: 'load' });
    const files = await Promise.all(loads);
    const total = files.reduce((sum, file) => sum + file.bytes, 0);
    console.log(
      `dashboard first load: ${total} B over the wire (${files.map((f) => `${f.url} ${f.bytes} B`).join(', ')})`,
    );

    expect(files.map((file) => file.url)).toEqual(
      expect.arrayContaining([
        '/',
        expect.stringMatching(/\.js$/),
        expect.stringMatching(/\.css$/),
      ]),
    );
    for (const file of files) expect(file.encoding, file.url).toBe('gzip');
    expect(total).toBeLessThanOrEqual(FIRST_LOAD_BUDGET);
  });

  it('should create jobs and show each one complete (or fail), with its delay and transport', async () => {
    const page = await openDashboard(server.url);

    const ids = await createJobs(page, { count: 3, duration: 300, fail: 1 });

    expect(ids).toHaveLength(3);
    await expectFinished(page, ids[0]!);
    await expectFinished(page, ids[1]!);
    await expectFinished(page, ids[2]!, 'failed');
    expect(await connection(page)).toMatch(/^(open · SSE|idle)$/);
    expect((await cost(page, 'SSE')).bytes).toBeGreaterThan(0);
  });

  it("should run with its origin's storage full, keeping only what fits (review of 2026-12-01)", async () => {
    const full = await browser.newContext();
    full.on('page', watchErrors);
    // Another app of the origin filled localStorage before the dashboard loads.
    await full.addInitScript(() => {
      type Writable = { setItem(key: string, value: string): void };
      for (const size of [2 ** 20, 2 ** 10, 1]) {
        try {
          // Read inside: a frame without storage (about:blank) throws at the read.
          const storage = (globalThis as unknown as { localStorage: Writable }).localStorage;
          for (let i = 0; ; i++) storage.setItem(`filler-${size}-${i}`, 'x'.repeat(size));
        } catch {
          // Full at this size: on to smaller ones.
        }
      }
    });
    try {
      const page = await full.newPage();
      await page.goto(server.url);
      await expect.poll(() => role(page), WAIT).toMatch(/^(leader|follower|alone)/);

      const [id] = await createJobs(page, { count: 1, duration: 200 });

      await expectFinished(page, id!);
    } finally {
      await full.close();
    }
  });

  it('should switch to POLL and back, and show what polling cost', async () => {
    const page = await openDashboard(server.url);

    await page.getByRole('radio', { name: 'POLL' }).check();
    const [polled] = await createJobs(page, { count: 1, duration: 300 });
    await expectFinished(page, polled!);
    expect(await jobRow(page, polled!).transport.textContent()).toBe('POLL');
    expect((await cost(page, 'Polling')).requests).toBeGreaterThan(0);
    await expect(page.getByRole('button', { name: 'Drop the stream' }).isDisabled()).resolves.toBe(
      true,
    );

    await page.getByRole('radio', { name: 'SSE' }).check();
    const [streamed] = await createJobs(page, { count: 1, duration: 300 });
    await expectFinished(page, streamed!);
    expect(await jobRow(page, streamed!).transport.textContent()).toBe('SSE');
    await page.getByRole('radio', { name: 'AUTO' }).check();
  });

  it('should drop the stream, fall back to polling and return to SSE', async () => {
    const page = await openDashboard(server.url);
    await page.getByRole('radio', { name: 'AUTO' }).check();
    // Long enough to be watched through the whole outage: idle, the page holds no stream.
    const [id] = await createJobs(page, { count: 1, duration: 8000 });
    await expect.poll(() => connection(page), WAIT).toBe('open · SSE');

    await page.getByLabel('Outage (s)').fill('1');
    await page.getByRole('button', { name: 'Drop the stream' }).click();

    await expect.poll(() => output(page, 'Fallbacks'), WAIT).toBe('1');
    await expect.poll(() => output(page, 'Returns to SSE'), WAIT).toBe('1');
    await expect.poll(() => connection(page), WAIT).toBe('open · SSE');
    // The log, newest first: the stream lost, polling in charge, the stream back.
    expect(await page.getByRole('list', { name: 'Connection log' }).textContent()).toMatch(
      /back to SSE[\s\S]*· POLL[\s\S]*fallback to POLL[\s\S]*stream dropped/,
    );
    await expectFinished(page, id!);
  });

  it('should share one stream with a second tab, which sees the same jobs', async () => {
    const first = await openDashboard(server.url);
    expect(await role(first)).toMatch(/^leader/);
    const [second] = await Promise.all([
      context!.waitForEvent('page'),
      first.getByRole('link', { name: 'Open a second tab' }).click(),
    ]);
    await second.waitForLoadState();
    await expect.poll(() => role(second), WAIT).toMatch(/^follower/);
    expect(await second.locator('#client-id').textContent()).toBe(
      await first.locator('#client-id').textContent(),
    );

    const [id] = await createJobs(second, { count: 1, duration: 1500 });
    // Both tabs watch it, over the leader's one stream.
    await expect.poll(() => jobRow(first, id!).state.textContent(), WAIT).toBe('running');
    await expect.poll(() => openStreams(server), WAIT).toBe(1);
    await expectFinished(first, id!);
    await expectFinished(second, id!);
    expect(await cost(second, 'SSE')).toEqual({ requests: 0, bytes: 0 });
  });

  it('should pass an axe-core accessibility check, with jobs, a drop and its log shown', async () => {
    const page = await openDashboard(server.url);
    const ids = await createJobs(page, { count: 4, duration: 5000, fail: 1 });
    await expect.poll(() => connection(page), WAIT).toBe('open · SSE');
    await page.getByLabel('Outage (s)').fill('1');
    await page.getByRole('button', { name: 'Drop the stream' }).click();
    await expect.poll(() => output(page, 'Returns to SSE'), WAIT).toBe('1');
    for (const id of ids.slice(0, 3)) await expectFinished(page, id);
    await expectFinished(page, ids[3]!, 'failed');

    const { violations } = await new AxeBuilder({ page }).analyze();

    expect(
      violations.map(({ id, help, nodes }) => ({ id, help, nodes: nodes.map((n) => n.target) })),
    ).toEqual([]);
    mkdirSync(new URL('.', `file://${SCREENSHOT}`), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
  });
});

describe('the dashboard in Chromium (express, with API_KEYS)', () => {
  let server: RunningServer;

  beforeAll(async () => {
    server = await startTestServer({
      HTTP_ADAPTER: 'express',
      API_KEYS: 'dashboard-key,second-key',
    });
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('should ask for the key, keep it for the tab, and then run jobs', async () => {
    const page = await openDashboard(server.url);
    await page.getByLabel('How many', { exact: true }).fill('1');
    await page.getByRole('button', { name: 'Create job' }).click();
    await page.getByText('This server needs an API key').waitFor(WAIT);
    // A refused request is a console error of its own (Chromium logs every 4xx): expected here.
    errors = errors.filter((error) => !/401 \(Unauthorized\)/.test(error));

    await page.getByLabel('Key').fill('dashboard-key');
    await page.getByRole('button', { name: 'Use key' }).click();
    const [id] = await createJobs(page, { count: 1, duration: 300 });

    await expectFinished(page, id!);
    expect(errors).toEqual([]);
    errors = [];
  });

  it('should keep the key for the page when sessionStorage refuses it (review of 2026-12-01)', async () => {
    const blocked = await browser.newContext();
    blocked.on('page', watchErrors);
    await blocked.addInitScript(() => {
      const refuse = (): never => {
        throw new Error('sessionStorage is blocked');
      };
      Object.defineProperty(globalThis, 'sessionStorage', { get: refuse, configurable: true });
    });
    try {
      const page = await blocked.newPage();
      await page.goto(server.url);
      await page.getByText('API key', { exact: true }).click();
      await page.getByLabel('Key').fill('dashboard-key');
      await page.getByRole('button', { name: 'Use key' }).click();

      const [id] = await createJobs(page, { count: 1, duration: 200 });

      await expectFinished(page, id!);
    } finally {
      await blocked.close();
    }
  });

  it("should keep another key's jobs out of a tab, and stop watching its own under another key (review of 2026-12-01)", async () => {
    const useKey = async (page: Page, key: string): Promise<void> => {
      const field = page.getByLabel('Key');
      if (!(await field.isVisible())) await page.getByText('API key', { exact: true }).click();
      await field.fill(key);
      await page.getByRole('button', { name: 'Use key' }).click();
    };
    const first = await openDashboard(server.url);
    await useKey(first, 'dashboard-key');
    const second = await openDashboard(server.url);
    await useKey(second, 'second-key');

    const [id] = await createJobs(first, { count: 1, duration: 5000 });
    await expect.poll(() => jobRow(first, id!).state.textContent(), WAIT).toBe('running');
    // The second tab is another client: the job is not its own (it showed a "not found" row).
    await useKey(first, 'second-key');
    await expect
      .poll(() => jobRow(first, id!).state.textContent(), WAIT)
      .toBe('not watched: another API key');
    expect(await jobRow(second, id!).state.count()).toBe(0);

    // Its own key back: watched again, and found finished.
    await useKey(first, 'dashboard-key');
    await expect.poll(() => jobRow(first, id!).state.textContent(), WAIT).toBe('completed');
    errors = [];
  });
});
