import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

/** The parts of a V8 `.cpuprofile` (as `node --cpu-prof` writes it) that a summary needs. */
interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    hitCount?: number;
  }[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  name: string;
  where: string;
  ms: number;
  percent: number;
}

/** Self time per function (same name and place), largest first. */
export function selfTimes(profile: CpuProfile): SelfTime[] {
  const byNode = new Map<number, number>();
  // Each sample's time is the delta to the next one.
  profile.samples.forEach((node, index) => {
    const delta = profile.timeDeltas[index + 1] ?? 0;
    byNode.set(node, (byNode.get(node) ?? 0) + delta);
  });
  const total = [...byNode.values()].reduce((a, b) => a + b, 0);
  const byFunction = new Map<string, SelfTime>();
  for (const node of profile.nodes) {
    const us = byNode.get(node.id) ?? 0;
    if (us === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url ? `${shorten(url)}:${lineNumber + 1}` : '';
    const key = `${functionName}@${where}`;
    const entry = byFunction.get(key) ?? {
      name: functionName || '(anonymous)',
      where,
      ms: 0,
      percent: 0,
    };
    entry.ms += us / 1000;
    byFunction.set(key, entry);
  }
  return [...byFunction.values()]
    .map((entry) => ({
      ...entry,
      ms: Math.round(entry.ms),
      percent: Math.round((entry.ms * 1000 * 1000) / total) / 10,
    }))
    .sort((a, b) => b.ms - a.ms);
}

/** Self time per package (node_modules/<pkg>, heygen-api, node internals, V8 and GC). */
export function selfTimesByPackage(profile: CpuProfile): { name: string; percent: number }[] {
  const sums = new Map<string, number>();
  let total = 0;
  for (const entry of selfTimes(profile)) {
    const pkg =
      /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(entry.where)?.[1] ??
      (entry.where.includes('heygen-api')
        ? 'heygen-api'
        : entry.where.startsWith('node:')
          ? 'node'
          : entry.name);
    sums.set(pkg, (sums.get(pkg) ?? 0) + entry.ms);
    total += entry.ms;
  }
  return [...sums]
    .map(([name, ms]) => ({ name, percent: Math.round((ms / total) * 1000) / 10 }))
    .sort((a, b) => b.percent - a.percent);
}

function shorten(url: string): string {
  return url.replace(/^file:\/\/.*?\/(node_modules|heygen-api)\//, '$1/');
}

// Run as a script: node bench/dist/profile-summary.js <file.cpuprofile>... [--top N]
if (process.argv[1] && basename(process.argv[1]) === 'profile-summary.js') {
  const args = process.argv.slice(2);
  const topIndex = args.indexOf('--top');
  const top = topIndex >= 0 ? Number(args.splice(topIndex, 2)[1]) : 25;
  for (const file of args) {
    const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
    console.log(
      `\n## ${basename(file)} (${((profile.endTime - profile.startTime) / 1e6).toFixed(1)} s)`,
    );
    for (const { name, percent } of selfTimesByPackage(profile).slice(0, 12)) {
      console.log(`  ${percent.toFixed(1).padStart(5)} %  ${name}`);
    }
    console.log('  --');
    for (const { name, where, ms, percent } of selfTimes(profile).slice(0, top)) {
      console.log(
        `  ${percent.toFixed(1).padStart(5)} %  ${String(ms).padStart(6)} ms  ${name}  ${where}`,
      );
    }
  }
}
