#!/usr/bin/env node
// heygen-cli: the integration run. Node has no EventSource of its own: as heygen-lib documents,
// the `eventsource` package is made global before the library starts.
import { readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { EventSource } from 'eventsource';
import { HELP, HELP_HINT, parseCliArgs, UsageError, type CliOptions } from './args.js';
import { Cleanup } from './cleanup.js';
import { LiveDisplay } from './live-display.js';
import { createLogger } from './logger.js';
import { formatReport } from './report.js';
import { run } from './run.js';

globalThis.EventSource = EventSource as unknown as typeof globalThis.EventSource;

async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  let options: CliOptions;
  try {
    options = parseCliArgs(argv, env);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`heygen-cli: ${error.message} (${HELP_HINT})\n`);
    return 2;
  }
  if (options.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  if (options.version) {
    process.stdout.write(`${version()}\n`);
    return 0;
  }

  // With --json, stdout carries only the report.
  const display = new LiveDisplay(options.json ? process.stderr : process.stdout);
  const stop = new AbortController();
  // After a stop signal its line is the run's last: what the teardown causes meanwhile (a server
  // killed while it starts, jobs ended by the client's disposal) would read as the run's failure.
  const output = display.stream;
  const log = createLogger({
    stream: { isTTY: output.isTTY, write: (chunk) => stop.signal.aborted || output.write(chunk) },
    env,
  });
  const cleanup = new Cleanup();
  /** The exit code once a stop signal came: nothing after its line is printed. */
  let stoppedCode: number | undefined;
  const interrupt = (signal: NodeJS.Signals): void => {
    // A second signal (Ctrl-C pressed again) must not cut the cleanup short.
    if (stoppedCode !== undefined) return;
    const what =
      options.instances > 1
        ? 'the servers, redis-server and the proxy'
        : 'the server and the proxy';
    display.close();
    log.error('heygen-cli', `${signal}: stopping ${what}`);
    // The shell convention: 128 + the signal's number (130 for SIGINT, 143 for SIGTERM).
    const code = 128 + constants.signals[signal];
    stoppedCode = code;
    // The run starts nothing more; what it started, or is starting, the cleanup stops.
    stop.abort();
    void cleanup.run().finally(() => process.exit(code));
  };
  // SIGHUP: the terminal closed, or the SSH session dropped. SIGQUIT: Ctrl-\ (its default, a
  // core dump, left the servers, redis-server and the temp dir behind: review of 2026-12-01).
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'] as const) {
    process.on(signal, interrupt);
  }
  // Output closed (`| head`): a stop too, as the shell's SIGPIPE would be. Node ignores SIGPIPE,
  // and a write fails with EPIPE instead, which crashed the run with its servers left running.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', () => interrupt('SIGPIPE'));
  }
  // Whatever else fails, what the run started is stopped before the process ends.
  process.once('uncaughtException', (error) => {
    process.stderr.write(`heygen-cli: ${error.stack ?? String(error)}\n`);
    void cleanup.run().finally(() => process.exit(stoppedCode ?? 1));
  });

  try {
    const report = await run({
      options,
      log,
      cleanup,
      signal: stop.signal,
      onProgress: (job) => stop.signal.aborted || display.update(job),
    });
    // A report of jobs the stop cut short would only show them failed.
    if (stoppedCode !== undefined) return stoppedCode;
    display.close();
    process.stdout.write(
      options.json ? `${JSON.stringify(report, null, 2)}\n` : `\n${formatReport(report)}\n`,
    );
    return report.ok ? 0 : 1;
  } catch (error) {
    // After a stop, a failure is the stop's doing (an aborted start, a server it killed).
    if (stoppedCode !== undefined) return stoppedCode;
    display.close();
    log.error(
      'heygen-cli',
      `run failed: ${error instanceof Error ? error.message : String(error)}`,
    );
    return 1;
  } finally {
    await cleanup.run();
  }
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return `heygen-cli ${pkg.version}`;
}

process.exitCode = await main(process.argv.slice(2), process.env);
