// Prints the raw, minified and gzipped size of the ESM bundle; fails over the budget (issue 3).
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { minify } from 'vite';

const BUDGET = 4096;
const file = new URL('../dist/index.js', import.meta.url);
const raw = readFileSync(file, 'utf8');
const { code, errors } = await minify('index.js', raw, {});
if (errors.length) throw new Error(errors.map((e) => e.message).join('\n'));
const gzip = gzipSync(code, { level: 9 }).length;
const kb = (n) => `${n} B (${(n / 1024).toFixed(2)} KB)`;
console.log(
  `dist/index.js  raw ${kb(raw.length)}  min ${kb(code.length)}  min+gzip ${kb(gzip)}  (budget ${kb(BUDGET)})`,
);
if (gzip > BUDGET) {
  console.error(`over budget by ${gzip - BUDGET} bytes`);
  process.exit(1);
}
