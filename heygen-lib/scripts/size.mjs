// Prints the raw, minified and gzipped size of each ESM build; fails when the browser build (what
// a web app ships, chosen by the `browser` export condition) is over the budget (scripts/size-budget.mjs).
// The `heygen-lib/tabs` build (dist/tabs.js) is printed too, without a budget of its own (README).
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { minify } from 'vite';
import { SIZE_BUDGET as BUDGET } from './size-budget.mjs';
const kb = (n) => `${n} B (${(n / 1024).toFixed(2)} KB)`;

async function measure(name) {
  const raw = readFileSync(new URL(`../dist/${name}`, import.meta.url), 'utf8');
  const { code, errors } = await minify(name, raw, {});
  if (errors.length) throw new Error(errors.map((e) => e.message).join('\n'));
  const gzip = gzipSync(code, { level: 9 }).length;
  console.log(`dist/${name}  raw ${kb(raw.length)}  min ${kb(code.length)}  min+gzip ${kb(gzip)}`);
  return gzip;
}

const browser = await measure('index.browser.js');
await measure('index.js');
await measure('tabs.js');
console.log(`budget for the browser build: ${kb(BUDGET)}`);
if (browser > BUDGET) {
  console.error(`over budget by ${browser - BUDGET} bytes`);
  process.exit(1);
}
