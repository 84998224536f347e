import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { accessSync, constants, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from 'heygen-test-support/free-port';

/** The nginx config the repository ships: compose.yaml mounts it into the official nginx image. */
export const NGINX_TEMPLATE = fileURLToPath(
  new URL('../../../docker/nginx/heygen.conf.template', import.meta.url),
);

/**
 * The nginx binary: NGINX when set, else `nginx` on PATH, else Debian's /usr/sbin/nginx (off a
 * normal user's PATH). scripts/install-test-deps.sh installs Debian's nginx-light.
 */
export function nginxBinary(): string {
  if (process.env.NGINX) return process.env.NGINX;
  const candidates = [
    ...(process.env.PATH ?? '').split(delimiter).map((dir) => join(dir, 'nginx')),
    '/usr/sbin/nginx',
  ];
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not this one
    }
  }
  throw new Error('nginx not found (run scripts/install-test-deps.sh, or set NGINX)');
}

/**
 * The shipped template for these instances, as the nginx image would write it: `${NGINX_LISTEN}`
 * filled in (envsubst), the upstream's `server` line, parameters kept, once per instance, and the
 * access log written to `accessLog` (the image links its path to standard output).
 */
export function renderNginxConfig(
  template: string,
  { listen, upstreams, accessLog }: { listen: string; upstreams: string[]; accessLog: string },
): string {
  const upstream = /^(upstream\s+\w+\s*\{\n)([\s\S]*?)^\}/m.exec(template);
  const SERVER = /^([ \t]*)server\s+[^\s;]+([^;\n]*);[^\n]*\n/gm;
  const first = upstream && [...upstream[2]!.matchAll(SERVER)][0];
  if (!upstream || !first) throw new Error(`${NGINX_TEMPLATE}: no upstream with a server line`);
  const [, indent, parameters] = first;
  const servers = upstreams.map((address) => `${indent}server ${address}${parameters};\n`);
  // The first server line becomes one per instance; any other goes.
  const body = upstream[2]!.replace(SERVER, (line) => (line === first[0] ? servers.join('') : ''));
  const filled = template
    .replace(upstream[0], () => `${upstream[1]}${body}}`)
    .replaceAll('${NGINX_LISTEN}', listen)
    .replaceAll('/var/log/nginx/access.log', accessLog);
  const left = /\$\{\w+\}/.exec(filled);
  if (left) throw new Error(`${NGINX_TEMPLATE}: ${left[0]} is not filled in by the test`);
  return filled;
}

/** A real nginx of the test's own: its prefix, config, logs and temp files in a temp dir. */
export interface TestNginx {
  /** `http://127.0.0.1:<port>`, without a trailing slash. */
  url: string;
  port: number;
  /** nginx's error log so far (where a refused upstream or a bad config is told). */
  errorLog(): string;
  /** The shipped config's access log so far. */
  accessLog(): string;
  /** Stops it and removes its dir; idempotent. */
  stop(): Promise<void>;
}

/** What `nginx -V` says: its version, and its configure arguments (the modules built without). */
function describeBuild(binary: string): { version: number[]; configure: string } {
  const result = spawnSync(binary, ['-V'], { encoding: 'utf8' });
  if (result.error) {
    throw new Error(
      `${binary} would not run (run scripts/install-test-deps.sh, or set NGINX): ${result.error.message}`,
    );
  }
  const text = result.stderr + result.stdout;
  const version = (/nginx\/(\d+)\.(\d+)\.(\d+)/.exec(text) ?? []).slice(1).map(Number);
  return { version, configure: text };
}

/**
 * The main config around the shipped one: what the nginx image's own nginx.conf gives it, with
 * every path nginx writes in `dir`, so that it runs as root and as any other user alike. One
 * process (`master_process off`), so that stopping it leaves no worker behind.
 */
function mainConfig(dir: string, configure: string): string {
  const path = (name: string): string => JSON.stringify(join(dir, name));
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    .filter((module) => !configure.includes(`--without-http_${module}_module`))
    .map((module) => `    ${module}_temp_path ${path(`temp-${module}`)};`);
  return [
    'daemon off;',
    'master_process off;',
    `pid ${path('nginx.pid')};`,
    `error_log ${path('error.log')} info;`,
    'events { worker_connections 256; }',
    'http {',
    `    access_log ${path('access.log')};`,
    ...temp,
    `    include ${path('heygen.conf')};`,
    '}',
    '',
  ].join('\n');
}

/**
 * Starts nginx on a free loopback port with the shipped config in front of `upstreams`
 * (`host:port` each), and waits until it answers its own /nginx-health.
 */
export async function startNginx({ upstreams }: { upstreams: string[] }): Promise<TestNginx> {
  const binary = nginxBinary();
  const { version, configure } = describeBuild(binary);
  const dir = await mkdtemp(join(tmpdir(), 'heygen-nginx-'));
  const readLog = (name: string): string => {
    try {
      return readFileSync(join(dir, name), 'utf8');
    } catch {
      return '';
    }
  };
  const errorLog = (): string => readLog('error.log');
  const accessLog = (): string => readLog('heygen-access.log');
  const template = await readFile(NGINX_TEMPLATE, 'utf8');
  await writeFile(join(dir, 'nginx.conf'), mainConfig(dir, configure));
  // -e (1.19.5+): the error log from the very start, not the build's default path.
  const early = (version[0] ?? 0) * 1e6 + (version[1] ?? 0) * 1e3 + (version[2] ?? 0) >= 1_019_005;
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    await writeFile(
      join(dir, 'heygen.conf'),
      renderNginxConfig(template, {
        listen: `127.0.0.1:${port}`,
        upstreams,
        accessLog: join(dir, 'heygen-access.log'),
      }),
    );
    const child = spawn(
      binary,
      ['-p', dir, '-c', join(dir, 'nginx.conf'), ...(early ? ['-e', join(dir, 'error.log')] : [])],
      { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', (error) => (output += error.message));
    const url = `http://127.0.0.1:${port}`;
    if (await answers(url, child)) {
      return { url, port, errorLog, accessLog, stop: stopper(child, dir) };
    }
    await stopper(child, dir, false)();
    const reason = `${output}\n${errorLog()}`.trim();
    // Another process took the port between the probe and the start: try another.
    if (attempt < 3 && /Address already in use/.test(reason)) continue;
    await rm(dir, { recursive: true, force: true });
    throw new Error(`${binary} would not start: ${reason.split('\n').slice(-5).join(' | ')}`);
  }
}

/** Waits until nginx answers /nginx-health (true), or exits or stays silent for 10 s (false). */
async function answers(url: string, child: ChildProcess): Promise<boolean> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && child.exitCode === null && child.signalCode === null) {
    const status = await fetch(`${url}/nginx-health`).then(
      (res) => res.status,
      () => 0,
    );
    if (status === 200) return true;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return false;
}

function stopper(child: ChildProcess, dir: string, removeDir = true): () => Promise<void> {
  let stopping: Promise<void> | undefined;
  return () =>
    (stopping ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = once(child, 'exit');
        // SIGTERM: nginx's fast shutdown; SIGKILL if it does not come.
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(timer);
      }
      if (removeDir) await rm(dir, { recursive: true, force: true });
    })());
}
