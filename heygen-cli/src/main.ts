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
  const log = createLogger({ stream: display.stream, env });
  const cleanup = new Cleanup();
  // The shell convention: 128 + the signal's number (130 for SIGINT, 143 for SIGTERM).
  const interrupt = (signal: NodeJS.Signals): void => {
    const what =
      options.instances > 1
        ? 'the servers, redis-server and the proxy'
        : 'the server and the proxy';
    log.error('heygen-cli', `${signal}: stopping ${what}`);
    void cleanup.run().finally(() => process.exit(128 + constants.signals[signal]));
  };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);

  try {
    const report = await run({ options, log, cleanup, onProgress: (job) => display.update(job) });
    display.close();
    process.stdout.write(
      options.json ? `${JSON.stringify(report, null, 2)}\n` : `\n${formatReport(report)}\n`,
    );
    return report.ok ? 0 : 1;
  } catch (error) {
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
