// The READMEs as a newcomer uses them (issue 16): every fenced shell command is either run here,
// as written, from the repository root, or listed with the reason it is not; the source tree of
// README.md names only paths that exist and every folder of each src/; CI runs exactly the test
// command; .env.example names every variable the server reads; the library's README links work
// on the registry page; and yarn.lock installs what package-lock.json does.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');

const READMES = [
  'README.md',
  'heygen-lib/README.md',
  'heygen-cli/README.md',
  'heygen-api/README.md',
];

/** Each command of the READMEs' ```sh blocks: continuation lines joined, comments dropped. */
function shellCommands(markdown: string): string[] {
  const commands: string[] = [];
  for (const [, block] of markdown.matchAll(/^```(?:sh|bash|shell)\n([\s\S]*?)^```/gm)) {
    for (const line of block!.replace(/\\\n\s*/g, ' ').split('\n')) {
      const command = line.replace(/(^|\s)#.*$/, '').trim();
      if (command !== '') commands.push(command);
    }
  }
  return commands;
}

interface Run {
  /** What the output must show: `json` parses stdout as the integration run's report. */
  expect: 'exit 0' | 'json';
  env?: Record<string, string>;
  stdout?: RegExp;
}

/** Commands run as written (with at most a shorter JOB_TIME), and what they must do. */
const RUN: Record<string, Run> = {
  'npm start': { expect: 'exit 0', env: { JOB_TIME: '1000' }, stdout: /Result: every job/ },
  'npm start -- --help': { expect: 'exit 0', stdout: /Usage: heygen-cli \[options\]/ },
  'npm start -- --version': { expect: 'exit 0', stdout: /heygen-cli \d+\.\d+\.\d+/ },
  'JOB_TIME=1000 npm start --silent -- --json': { expect: 'json' },
  'cd heygen-cli && npm start -- --mode sse --no-fallback --jobs 3': {
    expect: 'exit 0',
    stdout: /fallback off \(--no-fallback\)/,
  },
  'cd heygen-cli && npm start -- --help': { expect: 'exit 0', stdout: /--no-fallback/ },
  'cd heygen-cli && JOB_TIME=500 npm start --silent -- --json --jobs 2 --no-drop': {
    expect: 'json',
  },
  'npm pack --dry-run -w heygen-lib': { expect: 'exit 0' },
};

/** Commands not run here, each with the reason and where it is covered instead. */
const NOT_RUN: Record<string, string> = {
  'npm ci && npm start':
    'npm ci would reinstall node_modules under the running tests; .ci/run runs npm ci, CI runs npm start after it, and `npm start` is run here',
  'bash scripts/install-test-deps.sh && npm ci && npm test':
    'the test command itself (.ci/run); running it here would recurse',
  'cd heygen-cli && yarn install && yarn start':
    'yarn install would replace node_modules under the running tests; the `yarn` job of integration.yml runs it on a fresh checkout, heygen-cli/test/cli.test.ts runs `yarn start`',
  'cd heygen-cli && npx yarn@1 install && npx yarn@1 start':
    'as `yarn install && yarn start`, with yarn fetched by npx (the `yarn` job of integration.yml runs it)',
  'corepack enable':
    'installs yarn and pnpm shims next to Node: changes the machine, not the repository',
  'npm run start:api':
    'a server that runs until stopped; heygen-api tests and the packaging test start the same dist/main.js',
  'PORT=3001 LOG_LEVEL=log npm run start:api':
    'a server that runs until stopped (as npm run start:api)',
  'cp .env.example .env': 'a .env would change the server every other test starts',
  "U=$(node -p 'crypto.randomUUID()')":
    'the curl examples need a server on port 3000; heygen-api/test e2e tests make each request',
  'ID=$(curl -s -X POST "localhost:3000/create?uuid=$U" | node -p \'JSON.parse(require("fs").readFileSync(0)).id\')':
    'needs a server on port 3000 (as above)',
  'curl -s "localhost:3000/status/$ID?uuid=$U"': 'needs a server on port 3000 (as above)',
  'curl -s "localhost:3000/status?uuid=$U&ids=$ID"': 'needs a server on port 3000 (as above)',
  'curl -sN -H \'Accept: text/event-stream\' "localhost:3000/status?uuid=$U"':
    'needs a server on port 3000 and streams until stopped',
  'docker build -t heygen .':
    'no Docker engine here; test/packaging.test.ts lints the Dockerfile and re-enacts its runtime stage',
  'docker run --rm -it heygen': 'no Docker engine here (as docker build)',
  'docker run --rm -e JOB_TIME=1000 heygen --json': 'no Docker engine here (as docker build)',
  'docker run --rm -p 3000:3000 heygen api': 'no Docker engine here (as docker build)',
  'docker run --rm -p 3000:3000 -e API_KEYS=secret heygen api':
    'no Docker engine here (as docker build)',
  'docker compose up --build':
    'no Docker engine here; test/packaging.test.ts checks compose.yaml, and heygen-api/test/nginx.e2e-spec.ts runs its nginx config in front of two replicas',
  "docker inspect --format '{{.State.Health.Status}}' CONTAINER":
    'no Docker engine here; the packaging test runs the HEALTHCHECK command',
  'npm run docs -w heygen-lib': 'npm test runs the same TypeDoc without writing HTML (docs:check)',
  'npm run openapi -w heygen-api':
    'rewrites docs/openapi.json while the packaging test compares it; that test runs the same export',
  'npm run build': 'npm test runs it first',
  'npm test': 'the test command itself',
  'npx vitest run --project heygen-api': 'npm test runs every project',
  'npx vitest run --project packaging': 'npm test runs every project',
  'npm run lint && npm run format': 'format rewrites files; npm test runs lint and format:check',
  'npm run build -w heygen-lib': 'npm test builds every package first',
  'npm run typecheck -w heygen-lib': 'npm test type-checks every package',
  'npm run check:package -w heygen-lib': 'npm test runs every package check',
  'npm run size -w heygen-lib': 'npm test runs it among the package checks (`npm run check`)',
  'npx vitest run --project heygen-lib': 'npm test runs every project',
  "npx vitest run --project 'heygen-lib fault matrix'": 'npm test runs every project',
  'npm install heygen-lib': 'heygen-lib is not on the registry until its first release',
  'npm ci && npm run build -w heygen-lib && npm pack -w heygen-lib':
    'npm ci would reinstall under the running tests; the test below packs heygen-lib and installs the tarball into an app',
  'npm install /path/to/heygen/heygen-lib-*.tgz':
    'a path in your app; the test below installs the packed tarball into a temporary app',
  'npx changeset': 'interactive; .changeset/README.md',
  'npx changeset version':
    'rewrites package.json and CHANGELOG.md; `npx changeset status` is run below',
};

function runCommand(
  command: string,
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', command], {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const commands = [...new Set(READMES.flatMap((path) => shellCommands(read(path))))];

describe('the commands of the READMEs', () => {
  it('should each be run here or listed with the reason it is not', () => {
    expect(commands.length).toBeGreaterThan(10);
    const unlisted = commands.filter((command) => !(command in RUN) && !(command in NOT_RUN));
    expect(unlisted, 'add each to RUN or NOT_RUN in test/readme.test.ts').toEqual([]);
    const stale = [...Object.keys(RUN), ...Object.keys(NOT_RUN)].filter(
      (command) => !commands.includes(command),
    );
    expect(stale, 'listed in test/readme.test.ts but in no README').toEqual([]);
  });

  it.concurrent.for(Object.entries(RUN))('should run `%s` as written', async ([command, run]) => {
    const { code, stdout, stderr } = await runCommand(command, run.env);
    expect(code, `${stdout}\n${stderr}`).toBe(0);
    if (run.stdout) expect(stdout).toMatch(run.stdout);
    if (run.expect === 'json') {
      const report = JSON.parse(stdout) as { ok: boolean; jobs: unknown[] };
      expect(report.ok).toBe(true);
      expect(report.jobs.length).toBeGreaterThan(0);
    }
  });
});

describe('the source tree in README.md', () => {
  const readme = read('README.md');
  const tree = /^```\n(heygen-api\/src\/[\s\S]*?)^```/m.exec(readme)?.[1] ?? '';
  /** Each header (`pkg/src/`) with the folders and files it names, as paths from the root. */
  const sections = new Map<string, { folders: Set<string>; files: Set<string> }>();
  let current: { base: string; folder: string; indent: number } | undefined;
  for (const line of tree.split('\n')) {
    if (line.trim() === '') continue;
    // Parentheses describe; only the names outside them are paths.
    const text = line.replace(/\([^)]*\)/g, ' ');
    const indent = /^ */.exec(line)![0].length;
    if (indent === 0) {
      const base = /^(\S+\/)/.exec(text)![1]!;
      current = { base, folder: base, indent: 0 };
      sections.set(base, { folders: new Set(), files: new Set() });
      continue;
    }
    const section = sections.get(current!.base)!;
    const leading = /^\s*([\w-]+\/)/.exec(text)?.[1];
    if (leading) current = { ...current!, folder: current!.base + leading, indent };
    else if (indent <= 2) current = { ...current!, folder: current!.base, indent };
    for (const [name] of text.matchAll(/[\w.-]+\/(?=\s|$)/g)) {
      section.folders.add((name === leading ? current!.base : current!.folder) + name);
    }
    for (const [name] of text.matchAll(/(?<![\w/])[\w-]+(\.[\w-]+)*\.(ts|mjs|js|json)\b/g)) {
      section.files.add(current!.folder + name);
    }
  }

  it('should name only files and folders that exist', () => {
    expect(sections.size).toBeGreaterThanOrEqual(5);
    const missing = [...sections.values()]
      .flatMap(({ folders, files }) => [...folders, ...files])
      .filter((path) => !existsSync(join(ROOT, path)));
    expect(missing).toEqual([]);
  });

  it('should list every folder of each src/', () => {
    for (const [base, { folders }] of sections) {
      if (!base.endsWith('src/')) continue;
      const actual = readdirSync(join(ROOT, base), { withFileTypes: true })
        .filter((entry) => entry.isDirectory())
        .map((entry) => `${base}${entry.name}/`);
      expect([...folders].sort(), base).toEqual(expect.arrayContaining(actual.sort()));
    }
  });
});

describe('CI', () => {
  it('should run exactly the README test command: .ci/run is that line, and the workflows run .ci/run', () => {
    const testCommand = shellCommands(read('README.md')).find((command) =>
      command.endsWith('npm test'),
    );
    expect(testCommand).toBe('bash scripts/install-test-deps.sh && npm ci && npm test');
    const ciCommands = read('.ci/run')
      .split('\n')
      .filter((line) => line.trim() !== '' && !line.startsWith('#'))
      .filter((line) => !/^(set |cd )/.test(line));
    expect(ciCommands).toEqual([testCommand]);
    for (const workflow of ['integration.yml', 'release.yml']) {
      const text = read(`.github/workflows/${workflow}`);
      expect(text, workflow).toMatch(/run: bash \.ci\/run$/m);
      expect(text, `${workflow} tests only through .ci/run`).not.toMatch(/run: .*npm (ci|test)\b/);
    }
  });

  it('should test every supported Node line: the engines floor and the LTS lines', () => {
    const engines = (JSON.parse(read('package.json')) as { engines: { node: string } }).engines;
    expect(engines.node).toBe('>=20.19');
    expect(read('.github/workflows/integration.yml')).toMatch(/node: \[20, 22, 24\]/);
    for (const path of ['heygen-api', 'heygen-lib', 'heygen-cli', 'test-support']) {
      const pkg = JSON.parse(read(`${path}/package.json`)) as { engines: { node: string } };
      expect(pkg.engines.node, path).toBe(engines.node);
    }
    expect(read('README.md')).toContain('Node.js 20.19+ (CI runs 20, 22 and 24)');
  });
});

describe('.env.example', () => {
  it('should name every variable the server reads, and no other', () => {
    const config = read('heygen-api/src/config/app-config.ts');
    const read_ = new Set(
      [...config.matchAll(/\b(?:int|list)\(\s*'([A-Z_]+)'|\benv\.([A-Z_]+)/g)].map(
        (m) => m[1] ?? m[2]!,
      ),
    );
    const example = new Set(
      [...read('.env.example').matchAll(/^# ([A-Z_]+)=/gm)].map((m) => m[1]!),
    );
    expect(read_.size).toBeGreaterThan(15);
    expect([...example].sort()).toEqual([...read_].sort());
  });
});

describe('heygen-lib for the registry', () => {
  const pkg = JSON.parse(read('heygen-lib/package.json')) as {
    repository: { url: string };
    homepage: string;
    bugs: { url: string };
  };
  const repo = pkg.repository.url.replace(/^git\+/, '').replace(/\.git$/, '');

  it('should link only absolute URLs of its own repository from its README', () => {
    const readme = read('heygen-lib/README.md');
    const links = [...readme.matchAll(/\]\(([^)]+)\)/g)].map((m) => m[1]!);
    expect(links.length).toBeGreaterThan(0);
    for (const link of links) {
      if (link.startsWith('#')) continue;
      expect(link, 'a relative link breaks on the registry page').toMatch(/^https:\/\//);
      if (link.includes('github.com')) {
        expect(link === repo || link.startsWith(`${repo}/`), link).toBe(true);
      }
    }
    expect(pkg.homepage.startsWith(repo)).toBe(true);
    expect(pkg.bugs.url).toBe(`${repo}/issues`);
  });

  it('should pack its build, README, LICENSE and CHANGELOG, and install into an app outside the repository', async () => {
    const { mkdtempSync, rmSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'heygen-app-'));
    try {
      const pack = spawnSync(
        'npm',
        ['pack', '-w', 'heygen-lib', '--json', '--pack-destination', dir],
        {
          cwd: ROOT,
          encoding: 'utf8',
        },
      );
      expect(pack.status, pack.stderr).toBe(0);
      const [packed] = JSON.parse(pack.stdout) as Array<{
        filename: string;
        files: Array<{ path: string }>;
      }>;
      const files = packed!.files.map((file) => file.path);
      expect(files).toEqual(
        expect.arrayContaining([
          'LICENSE',
          'README.md',
          'CHANGELOG.md',
          'package.json',
          'dist/index.js',
        ]),
      );
      const app = join(dir, 'app');
      spawnSync('mkdir', [app]);
      writeFileSync(
        join(app, 'package.json'),
        '{ "name": "app", "private": true, "type": "module" }\n',
      );
      const install = spawnSync(
        'npm',
        ['install', '--no-audit', '--no-fund', '--offline', join(dir, packed!.filename)],
        { cwd: app, encoding: 'utf8' },
      );
      expect(install.status, install.stderr).toBe(0);
      for (const [file, code] of [
        ['esm.mjs', "import { HeyGenAPI } from 'heygen-lib'; console.log(typeof HeyGenAPI);"],
        ['cjs.cjs', "const { HeyGenAPI } = require('heygen-lib'); console.log(typeof HeyGenAPI);"],
        // Every subpath, from the packed tarball as a user installs it.
        ['tabs.mjs', "import { HeyGenAPI } from 'heygen-lib/tabs'; console.log(typeof HeyGenAPI);"],
        [
          'webhooks.mjs',
          "import { verifyWebhook } from 'heygen-lib/webhooks'; console.log(typeof verifyWebhook);",
        ],
        [
          'webhooks.cjs',
          "const { verifyWebhook } = require('heygen-lib/webhooks'); console.log(typeof verifyWebhook);",
        ],
      ] as const) {
        writeFileSync(join(app, file), code);
        const result = spawnSync(process.execPath, [file], { cwd: app, encoding: 'utf8' });
        expect(result.stdout.trim(), result.stderr).toBe('function');
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('should have its next release planned by Changesets', () => {
    const result = spawnSync('npx', ['changeset', 'status'], { cwd: ROOT, encoding: 'utf8' });
    expect(result.status, result.stdout + result.stderr).toBe(0);
    expect(result.stdout + result.stderr).toContain('heygen-lib');
  });

  it('should carry the MIT LICENSE in the repository and in every package', () => {
    const license = read('LICENSE');
    expect(license).toMatch(/^MIT License/);
    for (const path of ['heygen-api', 'heygen-lib', 'heygen-cli', 'test-support']) {
      expect(read(`${path}/LICENSE`), path).toBe(license);
    }
  });
});

describe('yarn.lock', () => {
  it('should install exactly what package-lock.json does (node scripts/yarn-lock.mjs)', () => {
    const result = spawnSync(process.execPath, ['scripts/yarn-lock.mjs', '--check'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(result.status, result.stderr).toBe(0);
  });
});
