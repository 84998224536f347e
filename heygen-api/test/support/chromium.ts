// The one Chromium launch of every browser test (heygen-test-support/chromium).
export { launchChromium } from 'heygen-test-support/chromium';
