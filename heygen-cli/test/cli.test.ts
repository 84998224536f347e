import { spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnServer } from 'heygen-test-support/server';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { type RunReport } from '../src/report.js';
import { CLI_MAIN, runCli } from './run-cli.js';

/** A port held by another process-local server for the duration of the test. */
async function takenPort(): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return (server.address() as { port: number }).port;
}

/** A port nothing listens on: taken from the system, then released. */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('the integration run', () => {
  it('should see all five jobs once each, fall back to POLL on the cut, and return to SSE', async () => {
    // The library keeps no connection once nothing is watched, so the return to SSE shows only
    // while jobs run: the network heals 5.5 s in, and SSE probes back off (0.5, 1, 2, 4 s, with
    // jitter) from the cut at 4 s, so the probe that finds it healed comes by 7.5 s at the latest.
    const { code, stdout, stderr } = await runCli(['--json', '--job-time', '8000']);
    expect(code, stderr).toBe(0);
    const report = JSON.parse(stdout) as RunReport;

    expect(report.ok).toBe(true);
    expect(report.jobs).toHaveLength(5);
    for (const job of report.jobs) {
      expect(job).toMatchObject({ status: 'completed', deliveries: 1 });
      expect(job.seenAt).toBeGreaterThanOrEqual(job.finishedAt!);
      expect(['sse', 'poll']).toContain(job.seenBy);
    }
    expect(new Set(report.jobs.map((job) => job.id)).size).toBe(5);
    expect(report.disruption).toMatchObject({
      dropped: true,
      fallback: true,
      fellBack: true,
      returnedToSse: true,
    });
    expect(report.disruption.unfinishedAtHeal).toBeGreaterThan(0);
    expect(report.totals.fallbacks).toBeGreaterThanOrEqual(1);
    expect(report.totals.upgrades).toBeGreaterThanOrEqual(1);
    // No poll.requests assertion: polling asks only once a job is due (8 s jobs), and the stream
    // may be back before then, which is the cheapest outcome.

    // Logs went to stderr as structured lines from all three components.
    expect(stderr).toMatch(/^\S+Z \[heygen-cli\] job \d+ created n=1$/m);
    expect(stderr).toMatch(/\[heygen-api\] heygen-api listening on http:\/\/127\.0\.0\.1:\d+/);
    expect(stderr).toMatch(/\[heygen-lib\] fallback to POLL/);
    expect(stderr).not.toContain('\x1b[');
  });

  it('should print a readable report and run undisturbed with --no-drop', async () => {
    const { code, stdout } = await runCli(['--no-drop', '--jobs', '2', '--job-time', '100']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Report: 2 jobs, JOB_TIME 100 ms, mode auto$/m);
    expect(stdout).toMatch(/^\d+ +\S+ +\S+ +\S+ +\d+ ms +sse +completed$/m);
    expect(stdout).toContain('Network disruption: none (--no-drop)');
    expect(stdout).toContain('Result: every job completed and was seen once.');
  });

  it('should exit 1 and name the job when a job fails', async () => {
    const { code, stdout } = await runCli([
      '--json',
      '--no-drop',
      '--jobs',
      '2',
      '--job-time',
      '100',
      '--fail',
      '2',
    ]);
    expect(code).toBe(1);
    const report = JSON.parse(stdout) as RunReport;
    expect(report.ok).toBe(false);
    expect(report.jobs[1]).toMatchObject({ status: 'failed' });
    expect(report.problems).toEqual([`job ${report.jobs[1]!.id} ended failed`]);
  });

  it('should exit 1 with a clear message when the server cannot start', async () => {
    // The server refuses a JOB_TIME above its own MAX_JOB_TIME_MS.
    const { code, stdout } = await runCli(['--job-time', '5000'], { MAX_JOB_TIME_MS: '1000' });
    expect(code).toBe(1);
    expect(stdout).toMatch(
      /\[heygen-cli\] run failed: heygen-api would not start: it exited with code 1/,
    );
    expect(stdout).toContain('JOB_TIME="5000"');
  });

  it('should exit 1 with a clear message when its port is taken', async () => {
    const port = await takenPort();
    const { code, stdout } = await runCli(['--port', String(port), '--jobs', '1']);
    expect(code).toBe(1);
    expect(stdout).toContain(
      `run failed: heygen-api would not start: port ${port} is already in use`,
    );
  });

  it('should exit 2 with one line and a hint to --help on a bad option, and 0 for --help', async () => {
    const bad = await runCli(['--mode', 'fax']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe(
      `heygen-cli: --mode must be auto, sse or poll, not "fax" (run 'heygen-cli --help' for the options)\n`,
    );
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--no-drop');
    expect(help.stdout).toContain('--instances <n>');
  });

  it('should give a negative number its range message, not Node\'s "ambiguous"', async () => {
    const { code, stderr } = await runCli(['--jobs', '-1']);
    expect(code).toBe(2);
    expect(stderr).toBe(
      `heygen-cli: --jobs must be an integer from 1 to 1000, not "-1" (run 'heygen-cli --help' for the options)\n`,
    );
  });

  it('should print its version with --version', async () => {
    const { version } = JSON.parse(
      readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
    ) as {
      version: string;
    };
    const { code, stdout } = await runCli(['--version']);
    expect(code).toBe(0);
    expect(stdout).toBe(`heygen-cli ${version}\n`);
  });

  it('should fail within seconds, in one line naming the URL and the cause, on a dead --url', async () => {
    const port = await deadPort();
    const started = Date.now();
    const { code, stdout } = await runCli(['--url', `http://127.0.0.1:${port}`, '--jobs', '1']);
    expect(Date.now() - started).toBeLessThan(6000);
    expect(code).toBe(1);
    const failures = stdout.split('\n').filter((line) => line.includes('run failed'));
    expect(failures).toHaveLength(1);
    expect(failures[0]).toContain(
      `run failed: no heygen-api answers at http://127.0.0.1:${port}/health (connect ECONNREFUSED 127.0.0.1:${port})`,
    );
  });

  it("should ask a --url server for --job-time's jobs, whatever its own JOB_TIME (review of 2026-12-01)", async () => {
    const server = await spawnServer({
      env: { ...process.env, PORT: '0', HOST: '127.0.0.1', JOB_TIME: '30000', LOG_LEVEL: 'warn' },
    });
    onTestFinished(() => server.stop());
    const { code, stdout } = await runCli([
      ...['--url', server.url, '--job-time', '200', '--jobs', '1', '--no-drop', '--json'],
    ]);
    expect(code, stdout).toBe(0);
    const [job] = (JSON.parse(stdout) as RunReport).jobs;
    expect(job!.finishedAt! - job!.createdAt).toBeLessThan(5000);
  });

  it("should report a --url server's own job time when --job-time is not given (review of 2026-12-01)", async () => {
    const server = await spawnServer({
      env: { ...process.env, PORT: '0', HOST: '127.0.0.1', JOB_TIME: '700', LOG_LEVEL: 'warn' },
    });
    onTestFinished(() => server.stop());
    const { code, stdout } = await runCli([
      ...['--url', server.url, '--jobs', '1', '--no-drop', '--json'],
    ]);
    expect(code, stdout).toBe(0);
    // It said 3000, the run's default, which the server never used.
    expect((JSON.parse(stdout) as RunReport).jobTime).toBe(700);
  });

  it('should give a --url server with API keys the key of HEYGEN_API_KEY (review of 2026-12-01)', async () => {
    const server = await spawnServer({
      env: {
        ...process.env,
        PORT: '0',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'warn',
        API_KEYS: 'the-run-key-0123456789',
        WEBHOOK_ALLOW_PRIVATE: 'true',
      },
    });
    onTestFinished(() => server.stop());
    const args = ['--url', server.url, '--job-time', '200', '--jobs', '1', '--webhook', '--json'];

    const refused = await runCli(args);
    const { code, stdout } = await runCli(args, { HEYGEN_API_KEY: 'the-run-key-0123456789' });

    // No option or variable could give one: every run failed with 401.
    expect(refused.code).toBe(1);
    expect(code, stdout).toBe(0);
  });

  it("should stop its server where there is no `ps` (node:slim, the image's base) (review of 2026-12-01)", async () => {
    // A PATH that holds node only.
    const bin = mkdtempSync(join(tmpdir(), 'heygen-cli-nops-'));
    onTestFinished(() => rmSync(bin, { recursive: true, force: true }));
    symlinkSync(process.execPath, join(bin, 'node'));
    const cli = startCli(['--no-drop', '--jobs', '1', '--job-time', '50'], { env: { PATH: bin } });
    const code = await cli.exit;
    expect(code, cli.output()).toBe(0);
    expect(cli.output()).not.toContain('ENOENT');
    await vi.waitFor(() => expect(markedProcesses(cli.mark)).toEqual([]), { timeout: 6000 });
  });

  it('should run with the keyless server it starts, whatever API_KEYS says (review of 2026-12-01)', async () => {
    const { code, stdout } = await runCli(['--no-drop', '--jobs', '1', '--job-time', '50'], {
      API_KEYS: 'a-key-of-the-shell',
    });
    expect(code, stdout).toBe(0);
  });

  it('should run its own server in memory, whatever the shell or a .env where it starts says (review of 2026-12-01)', async () => {
    // A .env made for `npm run start:api`: the run's server read it and wrote into that Redis.
    const dir = mkdtempSync(join(tmpdir(), 'heygen-cli-env-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, '.env'), 'JOBS_DRIVER=redis\nREDIS_URL=redis://127.0.0.1:1\n');

    const { code, stdout } = await runCli(
      ['--no-drop', '--jobs', '1', '--job-time', '50'],
      { JOBS_DRIVER: 'redis', REDIS_URL: 'redis://127.0.0.1:1' },
      dir,
    );

    expect(code, stdout).toBe(0);
  });

  it('should not count a missing fallback against POLL mode, where none applies', async () => {
    const { code, stdout } = await runCli(['--mode', 'poll', '--jobs', '1', '--job-time', '300']);
    expect(code).toBe(0);
    expect(stdout).toContain(
      'Network disruption: event streams cut; POLL does not use them, so there is no fallback to expect',
    );
    expect(stdout).not.toContain('did NOT');
  });

  it('should let SSE reconnect and resume by itself with --no-fallback', async () => {
    // The cut comes right after job 1 and heals 1.5 s later, while the job still runs.
    const { code, stdout, stderr } = await runCli([
      '--json',
      '--mode',
      'sse',
      '--no-fallback',
      '--jobs',
      '1',
      '--job-time',
      '5000',
    ]);
    expect(code, stderr).toBe(0);
    const report = JSON.parse(stdout) as RunReport;
    expect(report.disruption).toMatchObject({
      dropped: true,
      fallback: false,
      fellBack: false,
      returnedToSse: true,
    });
    expect(report.totals.poll.requests).toBe(0);
    expect(report.jobs[0]).toMatchObject({ status: 'completed', seenBy: 'sse', deliveries: 1 });
  });
});

describe('with --webhook', () => {
  it("should verify every job's final webhook, and show job 1's refused first attempt retried", async () => {
    const { code, stdout, stderr } = await runCli([
      '--webhook',
      '--jobs',
      '2',
      '--job-time',
      '500',
      '--no-drop',
      '--json',
    ]);
    expect(code, stderr).toBe(0);
    const report = JSON.parse(stdout) as RunReport;
    expect(report.ok, report.problems.join('; ')).toBe(true);
    expect(report.jobs).toHaveLength(2);
    expect(report.jobs.map((job) => job.webhook?.attempts)).toEqual([2, 1]);
    for (const job of report.jobs) {
      expect(job.webhook).toMatchObject({ status: 'completed' });
      expect(job.webhookDelayMs).toBe(job.webhook!.receivedAt! - job.finishedAt!);
      expect(job.webhookDelayMs).toBeGreaterThanOrEqual(0);
    }
    // The retry comes a second after the refused attempt (WEBHOOK_RETRY_SCHEDULE 0,1000,…).
    expect(report.jobs[0]!.webhookDelayMs).toBeGreaterThanOrEqual(1000);
    expect(report.webhooks).toMatchObject({
      url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/) as unknown,
      deliveries: 3,
      verified: 3,
      failedVerification: 0,
      retries: 1,
    });
    expect(stderr).toMatch(/\[heygen-cli\] webhook job \d+ completed verified: answered 500/);
  });
});

describe('with --instances', () => {
  it('should run two instances on Redis, kill the one holding the stream, and say who served what', async () => {
    const { code, stdout, stderr } = await runCli(['--json', '--instances', '2']);
    expect(code, stderr).toBe(0);
    const report = JSON.parse(stdout) as RunReport;
    expect(report.ok, report.problems.join('; ')).toBe(true);

    const names = report.instances.map((instance) => instance.name);
    expect(names).toEqual(['api-1', 'api-2']);
    for (const instance of report.instances) expect(instance.port).toBeGreaterThan(0);
    expect(report.jobs).toHaveLength(5);
    expect(new Set(report.jobs.map((job) => job.id)).size).toBe(5);
    for (const job of report.jobs) {
      expect(job).toMatchObject({ status: 'completed', deliveries: 1 });
      expect(names).toContain(job.createdOn);
      expect(names).toContain(job.seenOn);
      expect(job.servedBy!.at(-1)).toMatchObject({ instance: job.seenOn });
      expect(job.servedBy!.at(-1)!.statuses).toContain('completed');
    }

    // The disruption killed the instance holding the stream; the stream went on on the other one,
    // and the killed one came back at the heal as a new process on its port.
    const kill = report.disruption.kill!;
    expect(kill).toMatchObject({ afterJob: 3, reason: 'stream' });
    expect(names).toContain(kill.instance);
    expect(kill.streamMovedTo).toBe(names.find((name) => name !== kill.instance));
    expect(kill.restartedPid).toBeGreaterThan(0);
    expect(kill.restartedPid).not.toBe(kill.pid);
    expect(report.instances.find((instance) => instance.name === kill.instance)).toMatchObject({
      port: kill.port,
      pid: kill.restartedPid,
    });
    expect(report.disruption).toMatchObject({ fellBack: true, returnedToSse: true });
    expect(isAlive(kill.pid)).toBe(false);
    expect(stderr).toMatch(
      new RegExp(`\\[heygen-cli\\] network change: ${kill.instance} is killed \\(SIGKILL\\)`),
    );

    // Everything the run started is gone: Redis, both instances (the restarted one too), the dir.
    const redis = /redis-server is ready url=\S+ pid=(\d+) dir=(\S+)/.exec(stderr);
    expect(redis).not.toBeNull();
    const pids = [Number(redis![1]), ...report.instances.map((instance) => instance.pid!)];
    await vi.waitFor(() => expect(pids.filter(isAlive)).toEqual([]));
    expect(existsSync(redis![2]!)).toBe(false);
  });

  it('should fail before starting anything, in one line, without redis-server', async () => {
    const { code, stdout } = await runCli(['--instances', '2'], {
      REDIS_SERVER: '/nonexistent/redis-server',
    });
    expect(code).toBe(1);
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /\[heygen-cli\] run failed: --instances 2 needs redis-server, and REDIS_SERVER=\/nonexistent\/redis-server is not an executable file: install redis-server \(e\.g\. `apt-get install redis-server`\) or run with --instances 1$/,
    );
  });
});

describe('stopping', () => {
  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)(
    'should stop the server it started on %s and exit %i (128 + the signal)',
    async (signal, exitCode) => {
      const child = spawn(process.execPath, [CLI_MAIN, '--job-time', '60000'], {
        env: { ...process.env, NO_COLOR: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      const serverPid = await new Promise<number>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => {
          output += chunk.toString();
          const match = /heygen-api is ready .* pid=(\d+)/.exec(output);
          if (match) resolve(Number(match[1]));
        });
        child.once('exit', () => reject(new Error(`exited early:\n${output}`)));
      });
      expect(isAlive(serverPid)).toBe(true);

      const exited = once(child, 'exit') as Promise<[number | null]>;
      child.kill(signal);
      const [code] = await exited;
      expect(code).toBe(exitCode);
      expect(output).toContain(`${signal}: stopping the server and the proxy`);
      await vi.waitFor(() => expect(isAlive(serverPid)).toBe(false));
    },
  );

  it('should stop the server it is still starting when interrupted', async () => {
    // The server inherits this mark: found by it in /proc, whoever its parent is by then.
    const mark = `heygen-cli-test-${crypto.randomUUID()}`;
    const child = spawn(process.execPath, [CLI_MAIN, '--job-time', '60000'], {
      env: { ...process.env, NO_COLOR: '1', HEYGEN_TEST_MARK: mark },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('starting heygen-api')) resolve();
      });
      child.once('exit', () => reject(new Error(`exited early:\n${output}`)));
    });
    await vi.waitFor(() => expect(markedProcesses(mark)).not.toEqual([]));

    const exited = once(child, 'exit') as Promise<[number | null]>;
    child.kill('SIGINT');
    const [code] = await exited;

    expect(code).toBe(130);
    expect(output).not.toContain('heygen-api is ready');
    expect(output).not.toContain('run failed');
    await vi.waitFor(() => expect(markedProcesses(mark)).toEqual([]), { timeout: 6000 });
  });
  // Whatever the stop causes (a server killed while it starts, jobs ended by the client's
  // disposal) printed a `run failed` line or a failed report after the stop line.
  it('should print nothing after its stop line, no report, when interrupted while a job runs', async () => {
    const cli = startCli(['--no-drop', '--jobs', '1', '--job-time', '60000']);
    await cli.waitFor(/job \d+ created n=1/);
    const code = await cli.stop('SIGINT');
    expect(code).toBe(130);
    expect(cli.lastLine(), cli.output()).toMatch(/SIGINT: stopping the server and the proxy$/);
    expect(cli.output()).not.toContain('Result:');
    await vi.waitFor(() => expect(markedProcesses(cli.mark)).toEqual([]), { timeout: 6000 });
  });

  it('should stop everything and exit 141 when its output is closed (`| head`) (review of 2026-12-01)', async () => {
    const cli = startCli(['--job-time', '60000']);
    await cli.waitFor(/job \d+ created n=1/);
    cli.closeOutput();
    expect(await cli.exit).toBe(141);
    await vi.waitFor(() => expect(markedProcesses(cli.mark)).toEqual([]), { timeout: 6000 });
  });

  it.each([
    ['SIGHUP (the terminal closed)', ['SIGHUP'], 129],
    ['SIGQUIT (Ctrl-\\)', ['SIGQUIT'], 131],
    ['a second Ctrl-C during the stop', ['SIGINT', 'SIGINT'], 130],
  ] as const)(
    'should stop everything on %s (review of 2026-12-01)',
    async (_what, signals, exitCode) => {
      const cli = startCli(['--no-drop', '--jobs', '1', '--job-time', '60000']);
      await cli.waitFor(/job \d+ created n=1/);
      for (const signal of signals) {
        cli.signal(signal);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(await cli.exit, cli.output()).toBe(exitCode);
      await vi.waitFor(() => expect(markedProcesses(cli.mark)).toEqual([]), { timeout: 6000 });
    },
  );

  it.each([
    ['the CLI', 'SIGINT', 130, false],
    ['the CLI', 'SIGTERM', 143, false],
    ['its process group (Ctrl-C in a terminal)', 'SIGINT', 130, true],
  ] as const)(
    'should cancel the start of --instances 2, quietly, on a signal to %s (%s, exit %i)',
    async (_target, signal, exitCode, group) => {
      const cli = startCli(['--instances', '2'], { group });
      const redis = await cli.waitFor(/redis-server is ready url=\S+ pid=(\d+) dir=(\S+)/);
      await cli.waitFor(/starting 2 heygen-api instances/);
      const code = await cli.stop(signal);

      expect(code).toBe(exitCode);
      // No `run failed: heygen-api api-1 would not start`, no instance ready, no proxy, no client.
      expect(cli.lastLine(), cli.output()).toMatch(
        new RegExp(`${signal}: stopping the servers, redis-server and the proxy$`),
      );
      await vi.waitFor(() => expect(markedProcesses(cli.mark)).toEqual([]), { timeout: 6000 });
      expect(isAlive(Number(redis[1]))).toBe(false);
      expect(existsSync(redis[2]!)).toBe(false);
    },
  );
});

/**
 * The built CLI, running until `stop` sends it a signal: alone, or with `group` to its whole
 * process group (its own), as a terminal's Ctrl-C does. What it starts inherits `mark`.
 */
function startCli(
  args: string[],
  { group = false, env = {} }: { group?: boolean; env?: Record<string, string> } = {},
) {
  const mark = `heygen-cli-test-${crypto.randomUUID()}`;
  const child = spawn(process.execPath, [CLI_MAIN, ...args], {
    env: { ...process.env, JOB_TIME: '', NO_COLOR: '1', HEYGEN_TEST_MARK: mark, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: group,
  });
  const exited = once(child, 'exit') as Promise<[number | null]>;
  // Whatever a failed test left running, the CLI included.
  onTestFinished(() => {
    for (const pid of markedProcesses(mark)) process.kill(pid, 'SIGKILL');
  });
  let output = '';
  const seen = new Set<() => void>();
  for (const stream of [child.stdout, child.stderr]) {
    stream.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      for (const check of seen) check();
    });
  }
  return {
    mark,
    output: () => output,
    lastLine: () => output.trimEnd().split('\n').at(-1) ?? '',
    waitFor: (pattern: RegExp) =>
      new Promise<RegExpExecArray>((resolve, reject) => {
        const check = () => {
          const match = pattern.exec(output);
          if (!match) return;
          seen.delete(check);
          resolve(match);
        };
        seen.add(check);
        check();
        void exited.then(() => reject(new Error(`exited before ${pattern}:\n${output}`)));
      }),
    stop: async (signal: NodeJS.Signals) => {
      if (group) process.kill(-child.pid!, signal);
      else child.kill(signal);
      const [code] = await exited;
      return code;
    },
    signal: (signal: NodeJS.Signals) => child.kill(signal),
    /** Its exit code, once it exits. */
    exit: exited.then(([code]) => code),
    /** Closes the reading end of its stdout, as `| head` does once it has its lines. */
    closeOutput: () => child.stdout.destroy(),
  };
}

/** Processes whose environment holds `mark`. */
function markedProcesses(mark: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`, 'latin1').includes(mark)) found.push(+entry);
    } catch {
      // Gone meanwhile, or not ours to read.
    }
  }
  return found;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('package scripts', () => {
  const cliDir = fileURLToPath(new URL('..', import.meta.url));
  const yarn = fileURLToPath(new URL('../../node_modules/.bin/yarn', import.meta.url));

  it.each([
    ['npm', 'npm', ['start', '--silent', '--']],
    ['yarn', yarn, ['--silent', 'start']],
  ])('should run the compiled integration run with `%s start`', async (_name, command, args) => {
    const result = await new Promise<{ code: number | null; stdout: string }>((resolve, reject) => {
      const child = spawn(
        command,
        [...args, '--no-drop', '--jobs', '1', '--job-time', '50', '--json'],
        {
          cwd: cliDir,
          env: { ...process.env, NO_COLOR: '1' },
          stdio: ['ignore', 'pipe', 'ignore'],
        },
      );
      let stdout = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.once('error', reject);
      child.once('close', (code) => resolve({ code, stdout }));
    });
    expect(result.code).toBe(0);
    expect((JSON.parse(result.stdout) as RunReport).jobs).toHaveLength(1);
  });

  it("should stop the run on a SIGTERM to `npm start`'s process, as a process manager sends it (review of 2026-12-01)", async () => {
    const mark = `heygen-cli-test-${crypto.randomUUID()}`;
    onTestFinished(() => {
      for (const pid of markedProcesses(mark)) process.kill(pid, 'SIGKILL');
    });
    const npm = spawn('npm', ['start', '--silent', '--', '--no-drop', '--job-time', '60000'], {
      cwd: cliDir,
      env: { ...process.env, NO_COLOR: '1', HEYGEN_TEST_MARK: mark },
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let output = '';
    await new Promise<void>((resolve, reject) => {
      npm.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (/job \d+ created n=1/.test(output)) resolve();
      });
      npm.once('exit', () => reject(new Error(`exited early:\n${output}`)));
    });

    npm.kill('SIGTERM'); // npm's process only: a shell between it and node kept the signal
    await vi.waitFor(() => expect(markedProcesses(mark)).toEqual([]), { timeout: 8000 });
    expect(output).toContain('SIGTERM: stopping the server and the proxy');
  });
});
