import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { formatReport } from './report.js';
import { useApiEntry } from './server.js';
import { runSuite, SCALES, type Scenario } from './suite.js';

const USAGE = `npm run bench -- [options]

  --only 1,2,...,11  scenarios to run (default: 1 to 8 and 11, webhooks; 7 needs redis-server,
                     8 Chromium; 9, a 10-minute soak, and 10, slowloris, run only when named)
  --soak-minutes <n> how long scenario 9 runs (default: 10; smoke: 1); at full scale it also
                     draws docs/soak.svg (docs/soak-redis.svg with --soak-driver redis)
  --soak-driver memory|redis  the driver of scenario 9's server (default: memory); redis needs
                     redis-server
  --scale full|smoke full: the issue's sizes (default); smoke: tiny, for a quick check
  --profile <dir>    write node --cpu-prof profiles of the server in scenarios 2 and 3
  --api <main.js>    benchmark another build of heygen-api (default: heygen-api/dist/main.js)
  --out <file>       JSON results (default: bench/results/latest.json; smoke: bench/results/smoke.json)`;

const { values } = parseArgs({
  options: {
    only: { type: 'string', default: '1,2,3,4,5,6,7,8,11' },
    scale: { type: 'string', default: 'full' },
    'soak-minutes': { type: 'string' },
    'soak-driver': { type: 'string', default: 'memory' },
    profile: { type: 'string' },
    api: { type: 'string' },
    out: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const chosen =
  values.scale === 'smoke' ? SCALES.smoke : values.scale === 'full' ? SCALES.full : undefined;
const soakMinutes =
  values['soak-minutes'] === undefined ? undefined : Number(values['soak-minutes']);
const scale =
  chosen && soakMinutes !== undefined
    ? { ...chosen, soak: { ...chosen.soak, minutes: soakMinutes } }
    : chosen;
const scenarios = new Set(values.only.split(',').map(Number));
const soakDriver = (['memory', 'redis'] as const).find((d) => d === values['soak-driver']);
if (
  !scale ||
  (soakMinutes !== undefined && !(soakMinutes > 0)) ||
  !soakDriver ||
  [...scenarios].some((s) => ![1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11].includes(s))
) {
  console.error(USAGE);
  process.exit(2);
}

if (values.api !== undefined) useApiEntry(resolve(values.api));
const started = Date.now();
const profileDir = values.profile === undefined ? undefined : resolve(values.profile);
if (profileDir) mkdirSync(profileDir, { recursive: true });
const result = await runSuite({
  scale,
  scenarios: scenarios as Set<Scenario>,
  ...(profileDir !== undefined && { profileDir }),
  soakDriver,
  log: (line) => console.error(`[bench ${((Date.now() - started) / 1000).toFixed(0)}s] ${line}`),
});
console.log(formatReport(result));
// A smoke run must not replace the figures docs/benchmarks.md records.
const out = resolve(
  values.out ?? `bench/results/${chosen === SCALES.smoke ? 'smoke' : 'latest'}.json`,
);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
console.error(`[bench] wrote ${out} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
