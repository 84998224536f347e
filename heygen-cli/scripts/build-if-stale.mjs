#!/usr/bin/env node
// Builds what the integration run needs, and only that: a package whose build output is missing
// or older than its sources (or than the build of a package it compiles against). `npm start` at
// the root and `npm start` / `yarn start` here run it first, so a fresh clone starts without a
// separate build and an unchanged tree starts at once (issue 16). Progress goes to stderr, so
// `--json` keeps stdout for the report. `npm run build` at the root still builds everything.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { delimiter, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** In build order: the files each build writes, and the packages whose build it compiles against. */
const PACKAGES = [
  { name: 'test-support', outputs: ['dist/index.js', 'dist/proxy.js', 'dist/server.js'] },
  {
    name: 'heygen-lib',
    outputs: ['dist/index.js', 'dist/index.browser.js', 'dist/index.cjs', 'dist/types/index.d.ts'],
  },
  // Its dashboard (web/, built into dist/web) bundles heygen-lib's build.
  { name: 'heygen-api', outputs: ['dist/main.js', 'dist/web/index.html'], needs: ['heygen-lib'] },
  { name: 'heygen-cli', outputs: ['dist/main.js'], needs: ['test-support', 'heygen-lib'] },
];

/** Build inputs besides src/ (and scripts/, web/): manifests, compiler and bundler configs. */
const CONFIG_FILES = /^(package\.json|tsconfig(\.\w+)?\.json|vite\.config\.ts)$/;
const NOT_BUILT = /\.(test|spec)\.ts$/;

/** The newest file under `dir` that the build reads, as [mtime, path]. */
function newestInput(dir) {
  let newest = [0, ''];
  const visit = (path) => {
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      const child = join(path, entry.name);
      if (entry.isDirectory()) visit(child);
      else if (!NOT_BUILT.test(entry.name)) {
        const time = statSync(child).mtimeMs;
        if (time > newest[0]) newest = [time, child];
      }
    }
  };
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory() && ['src', 'scripts', 'web'].includes(entry.name)) visit(path);
    else if (entry.isFile() && CONFIG_FILES.test(entry.name)) {
      const time = statSync(path).mtimeMs;
      if (time > newest[0]) newest = [time, path];
    }
  }
  const base = join(ROOT, 'tsconfig.base.json');
  const baseTime = statSync(base).mtimeMs;
  return baseTime > newest[0] ? [baseTime, base] : newest;
}

/** When the package's build last finished: its oldest output, or undefined when one is missing. */
function builtAt(dir, outputs) {
  let oldest = Infinity;
  for (const output of outputs) {
    try {
      oldest = Math.min(oldest, statSync(join(dir, output)).mtimeMs);
    } catch {
      return undefined;
    }
  }
  return oldest;
}

/** Why the package needs a build, or undefined when its output is up to date. */
function staleness(pkg, builtTimes) {
  const dir = join(ROOT, pkg.name);
  const built = builtAt(dir, pkg.outputs);
  if (built === undefined) return 'not built yet';
  const [time, path] = newestInput(dir);
  if (time > built) return `${relative(ROOT, path)} changed`;
  for (const need of pkg.needs ?? []) {
    if ((builtTimes.get(need) ?? 0) > built) return `${need} was rebuilt`;
  }
  return undefined;
}

function build(pkg) {
  const dir = join(ROOT, pkg.name);
  const { scripts } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  // The package's own build script, with the binaries npm or yarn would put on PATH: the same
  // under either package manager, and when this script is run with plain `node`.
  const bin = [join(dir, 'node_modules/.bin'), join(ROOT, 'node_modules/.bin')];
  const result = spawnSync(scripts.build, {
    cwd: dir,
    shell: true,
    stdio: ['ignore', process.stderr, process.stderr],
    env: { ...process.env, PATH: [...bin, process.env.PATH ?? ''].join(delimiter) },
  });
  if (result.status !== 0) {
    // A failed build may have written part of its output: make sure the next start tries again.
    rmSync(join(dir, pkg.outputs[0]), { force: true });
    process.stderr.write(
      `heygen-cli: building ${pkg.name} failed (\`${scripts.build}\` exited ${result.status ?? result.signal})\n`,
    );
    process.exit(1);
  }
}

const builtTimes = new Map();
for (const pkg of PACKAGES) {
  const reason = staleness(pkg, builtTimes);
  if (reason !== undefined) {
    process.stderr.write(`heygen-cli: building ${pkg.name} (${reason})\n`);
    build(pkg);
  }
  builtTimes.set(pkg.name, builtAt(join(ROOT, pkg.name), pkg.outputs) ?? 0);
}
