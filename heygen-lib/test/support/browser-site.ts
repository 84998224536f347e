import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser } from 'playwright-core';

// Debian's Chromium by default (scripts/install-test-deps.sh); CHROMIUM_PATH names another build.
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/** A site on its own origin (so CORS is real) whose page puts a built bundle on `window`. */
export interface BundleSite {
  url: string;
  close(): Promise<void>;
}

/**
 * Serves `bundle` (a built file of dist/, as a web app would load it) and a page that imports it
 * and puts its exports on `window[global]`.
 */
export const startBundleSite = async (bundle: URL, global: string): Promise<BundleSite> => {
  const code = readFileSync(bundle, 'utf8');
  const site: Server = createServer((req, res) => {
    if (req.url === '/bundle.js') {
      res.writeHead(200, { 'Content-Type': 'text/javascript' }).end(code);
    } else {
      res
        .writeHead(200, { 'Content-Type': 'text/html' })
        .end(
          `<!doctype html><title>heygen-lib</title><script type="module">` +
            `import * as lib from '/bundle.js'; window.${global} = lib;</script>`,
        );
    }
  });
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(site.address() as AddressInfo).port}/`,
    close: () => new Promise((resolve) => site.close(() => resolve())),
  };
};

/** Headless Chromium with the flags this machine needs (no sandbox as root, no background network). */
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
