import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { minify } from 'vite';

import { SIZE_BUDGET } from '../../../heygen-lib/scripts/size-budget.mjs';

/** heygen-lib's budget for the minified+gzipped browser bundle: the one number it checks. */
export const BUNDLE_BUDGET_BYTES = SIZE_BUDGET;

export interface BundleSizeResult {
  file: string;
  rawBytes: number;
  minBytes: number;
  minGzipBytes: number;
  budgetBytes: number;
}

/**
 * Scenario 4: the built library's browser bundle (what a web app ships), minified and gzipped as
 * heygen-lib/scripts/size.mjs does.
 */
export async function runBundleSize(): Promise<BundleSizeResult> {
  const file = fileURLToPath(new URL('../../../heygen-lib/dist/index.browser.js', import.meta.url));
  const raw = readFileSync(file, 'utf8');
  const { code, errors } = await minify('index.js', raw, {});
  if (errors.length) throw new Error(errors.map((error) => error.message).join('\n'));
  return {
    file: 'heygen-lib/dist/index.browser.js',
    rawBytes: Buffer.byteLength(raw),
    minBytes: Buffer.byteLength(code),
    minGzipBytes: gzipSync(code, { level: 9 }).length,
    budgetBytes: BUNDLE_BUDGET_BYTES,
  };
}
