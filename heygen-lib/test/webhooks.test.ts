import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as Lib from '../src/webhooks.js';
import { launchChromium, startBundleSite, type BundleSite } from './support/browser-site.js';

// heygen-lib/webhooks as it ships: the built subpath (dist/webhooks.js and .cjs, not the source),
// resolved by Node through the package's `exports` and loaded in headless Chromium, verifying what
// the `standardwebhooks` package (heygen-api's signer) signs.

const PACKAGE = fileURLToPath(new URL('..', import.meta.url));
const dist = (file: string): URL => new URL(`../dist/${file}`, import.meta.url);

declare global {
  interface Window {
    webhooksLib: typeof Lib;
  }
}

interface SignedRequest {
  secret: string;
  body: string;
  headers: Record<string, string>;
}

const payloadStub = { id: 1, status: 'completed', eventId: '9' };

/** A request signed now, as heygen-api signs it. */
function signedRequestStub(): SignedRequest {
  const secret = `whsec_${randomBytes(32).toString('base64')}`;
  const body = JSON.stringify(payloadStub);
  const sentAt = new Date();
  return {
    secret,
    body,
    headers: {
      'webhook-id': 'evt_9',
      'webhook-timestamp': String(Math.floor(sentAt.getTime() / 1000)),
      'webhook-signature': new Webhook(secret).sign('evt_9', sentAt, body),
    },
  };
}

/** What a consumer's process reports: where the subpath resolved, and what it verified. */
interface Outcome {
  resolved: string;
  payload: unknown;
  tampered: { instanceOfClass: boolean; name: string; code: string; reason: string };
}

// Run by a consumer's Node process: `lib` and `resolved` come from the import or the require.
const CHECK = `
  const { secret, body, headers } = JSON.parse(process.env.SIGNED_REQUEST);
  const payload = await lib.verifyWebhook(body, headers, secret);
  const error = await lib.verifyWebhook(body + ' ', headers, secret).catch((error) => error);
  const tampered = {
    instanceOfClass: error instanceof lib.WebhookVerificationError,
    name: error.name,
    code: error.code,
    reason: error.reason,
  };
  console.log(JSON.stringify({ resolved, payload, tampered }));`;

const CONSUMERS = {
  'ESM (import)': {
    args: [
      '--input-type=module',
      '-e',
      `const lib = await import('heygen-lib/webhooks');
       const resolved = import.meta.resolve('heygen-lib/webhooks');${CHECK}`,
    ],
    file: 'webhooks.js',
  },
  'CommonJS (require)': {
    args: [
      '--input-type=commonjs',
      '-e',
      `const lib = require('heygen-lib/webhooks');
       const resolved = require('node:url').pathToFileURL(require.resolve('heygen-lib/webhooks')).href;
       (async () => {${CHECK}})();`,
    ],
    file: 'webhooks.cjs',
  },
};

beforeAll(() => {
  if (!existsSync(dist('webhooks.js')) || !existsSync(dist('webhooks.cjs')))
    throw new Error('dist/webhooks.js is missing: run `npm run build -w heygen-lib` first');
});

describe('heygen-lib/webhooks, built, in Node', () => {
  it.for(Object.entries(CONSUMERS))(
    'should resolve to dist and verify what standardwebhooks signs: %s',
    ([, { args, file }]) => {
      const request = signedRequestStub();
      const result = spawnSync(process.execPath, args, {
        cwd: PACKAGE,
        encoding: 'utf8',
        env: { ...process.env, SIGNED_REQUEST: JSON.stringify(request) },
      });
      expect(result.status, result.stderr).toBe(0);
      const outcome = JSON.parse(result.stdout) as Outcome;
      expect(outcome).toEqual({
        resolved: dist(file).href,
        payload: payloadStub,
        tampered: {
          instanceOfClass: true,
          name: 'WebhookVerificationError',
          code: 'WEBHOOK_VERIFICATION',
          reason: 'NO_MATCHING_SIGNATURE',
        },
      });
    },
  );

  it('should need nothing at run time, and leave the main entry without it', () => {
    expect(readFileSync(dist('webhooks.js'), 'utf8')).not.toMatch(/^import .* from/m);
    expect(readFileSync(dist('webhooks.cjs'), 'utf8')).not.toMatch(/\brequire\(/);
    for (const file of ['index.js', 'index.cjs', 'index.browser.js', 'tabs.js']) {
      expect(readFileSync(dist(file), 'utf8'), file).not.toMatch(/verifyWebhook|whsec_/);
    }
  });
});

describe('heygen-lib/webhooks, built, in headless Chromium', () => {
  let site: BundleSite;
  let browser: Browser;

  beforeAll(async () => {
    site = await startBundleSite(dist('webhooks.js'), 'webhooksLib');
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await site?.close();
  });

  it("should verify what standardwebhooks signs with the browser's WebCrypto", async () => {
    const page = await browser.newPage();
    await page.goto(site.url);
    await page.waitForFunction(() => 'webhooksLib' in window);
    const request = signedRequestStub();
    const outcome = await page.evaluate(async ({ secret, body, headers }) => {
      const { verifyWebhook } = window.webhooksLib;
      const bytes = new TextEncoder().encode(body);
      return {
        isSecureContext: window.isSecureContext,
        fromText: await verifyWebhook(body, new Headers(headers), secret),
        fromBytes: await verifyWebhook(bytes, headers, secret),
        tampered: await verifyWebhook(`${body} `, headers, secret).then(
          () => 'verified',
          (error: Lib.WebhookVerificationError) => error.reason,
        ),
      };
    }, request);
    expect(outcome).toEqual({
      isSecureContext: true,
      fromText: payloadStub,
      fromBytes: payloadStub,
      tampered: 'NO_MATCHING_SIGNATURE',
    });
  });
});
