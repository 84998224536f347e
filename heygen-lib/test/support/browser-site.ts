import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

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

export { launchChromium } from 'heygen-test-support/chromium';
