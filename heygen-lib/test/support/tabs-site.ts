import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser } from 'playwright-core';

/** The built tabs bundle (dist/tabs.js, not the source), as a web app would load it. */
export const TABS_BUNDLE = new URL('../../dist/tabs.js', import.meta.url);
// Debian's Chromium by default (scripts/install-test-deps.sh); CHROMIUM_PATH names another build.
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/** A site on its own origin whose page puts heygen-lib/tabs on `window.lib`. */
export interface TabsSite {
  url: string;
  close(): Promise<void>;
}

export const startTabsSite = async (): Promise<TabsSite> => {
  const bundle = readFileSync(TABS_BUNDLE, 'utf8');
  const site: Server = createServer((req, res) => {
    if (req.url === '/heygen-lib-tabs.js') {
      res.writeHead(200, { 'Content-Type': 'text/javascript' }).end(bundle);
    } else {
      res
        .writeHead(200, { 'Content-Type': 'text/html' })
        .end(
          '<!doctype html><title>heygen-lib tabs</title><script type="module">' +
            "import * as lib from '/heygen-lib-tabs.js'; window.tabsLib = lib;</script>",
        );
    }
  });
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(site.address() as AddressInfo).port}/`,
    close: () => new Promise((resolve) => site.close(() => resolve())),
  };
};

/** Headless Chromium with the flags of browser.test.ts. */
export const launchChromium = (): Promise<Browser> =>
  chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--headless',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
