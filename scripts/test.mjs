#!/usr/bin/env node
// The one test command (`npm test`): builds, checks and tests every package, then prints a single
// closing line `N passed, N failed` that sums every suite. Each check counts as one; Vitest adds
// its own test counts. Exits non-zero when anything failed.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';

const RESULTS = '.test-results/vitest.json';

/** [name, command]: checks that pass or fail as a whole. */
const CHECKS = [
  ['build', 'npm run build'],
  ['typecheck', 'npm run typecheck'],
  ['lint', 'npm run lint'],
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

for (const [name, command] of CHECKS) {
  console.log(`\n▶ ${name}: ${command}`);
  if (run(command)) passed += 1;
  else {
    failed += 1;
    failures.push(name);
  }
}

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
