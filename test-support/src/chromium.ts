import { chromium, type Browser } from 'playwright-core';

// Debian's Chromium by default (scripts/install-test-deps.sh); CHROMIUM_PATH names another build.
// The tests never download a browser of their own.
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

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
