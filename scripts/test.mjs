#!/usr/bin/env node
// The one test command (`npm test`): builds, checks and tests every package, then prints a single
// closing line `N passed, N failed` that sums every suite. Each check counts as one; Vitest adds
// its own test counts. Exits non-zero when anything failed.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';

const RESULTS = '.test-results/vitest.json';

/** The first check; every other one and the tests read what it builds. */
const BUILD = ['build', 'npm run build'];

/**
 * [name, command]: checks that pass or fail as a whole, run two at a time after the build: each is
 * one single-threaded process (tsc, ESLint), so two of them fill 2 cores (103 s instead of 120 s
 * on this machine).
 */
const CHECKS = [
  // The longest first (about 60 s): the other worker runs the rest meanwhile.
  ['lint', 'npm run lint'],
  ['typecheck', 'npm run typecheck'],
  ['format', 'npm run format:check'],
  ['package checks', 'npm run check --workspaces --if-present'],
  // No two folders of a package's src/ import each other (issue 15).
  ['import cycles', 'node scripts/check-import-cycles.mjs'],
  // TypeDoc fails on an undocumented public symbol of heygen-lib (heygen-lib/typedoc.json).
  ['api docs', 'npm run docs:check -w heygen-lib'],
];

let passed = 0;
let failed = 0;
const failures = [];

function run(command) {
  return spawnSync(command, { shell: true, stdio: 'inherit' }).status === 0;
}

function count(name, ok) {
  if (ok) passed += 1;
  else {
    failed += 1;
    failures.push(name);
  }
}

/** Runs a check with its output held back, so that two checks at once do not interleave. */
function runQuietly(command) {
  return new Promise((resolve) => {
    const child = spawn(command, { shell: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const output = [];
    child.stdout.on('data', (chunk) => output.push(chunk));
    child.stderr.on('data', (chunk) => output.push(chunk));
    child.on('close', (code) => resolve({ ok: code === 0, output: Buffer.concat(output) }));
  });
}

async function runChecks(checks, atOnce) {
  const queue = [...checks];
  const worker = async () => {
    for (let check = queue.shift(); check; check = queue.shift()) {
      const [name, command] = check;
      const { ok, output } = await runQuietly(command);
      console.log(`\n▶ ${name}: ${command}${ok ? '' : ' (failed)'}`);
      process.stdout.write(output);
      count(name, ok);
    }
  };
  await Promise.all(Array.from({ length: atOnce }, worker));
}

console.log(`\n▶ ${BUILD[0]}: ${BUILD[1]}`);
count(BUILD[0], run(BUILD[1]));
await runChecks(CHECKS, 2);

console.log('\n▶ tests: vitest run');
rmSync(RESULTS, { force: true });
mkdirSync('.test-results', { recursive: true });
const testsOk = run(
  `npx vitest run --reporter=default --reporter=json --outputFile.json=${RESULTS}`,
);
try {
  const report = JSON.parse(readFileSync(RESULTS, 'utf8'));
  passed += report.numPassedTests;
  failed += report.numFailedTests;
  // A suite that fails to load reports no failed test: count it, or it would pass unseen.
  const brokenSuites = report.testResults.filter(
    (suite) => suite.status === 'failed' && suite.assertionResults.length === 0,
  );
  failed += brokenSuites.length;
  if (!testsOk && report.numFailedTests === 0 && brokenSuites.length === 0) {
    failed += 1;
    failures.push('vitest');
  }
  if (report.numTotalTests === 0) {
    failed += 1;
    failures.push('vitest ran no test');
  }
} catch {
  failed += 1;
  failures.push('vitest (no report)');
}

if (failures.length > 0) console.log(`\nFailed: ${failures.join(', ')}`);
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
