import { parseArgs } from 'node:util';

export type ListenerMode = 'auto' | 'sse' | 'poll';

/** What the integration run was asked to do. */
export interface CliOptions {
  jobs: number;
  jobTime: number;
  /**
   * --job-time or JOB_TIME was given: each job asks for it (`duration`), so that a --url server
   * runs it that long too. Else a --url server's own JOB_TIME decides (and its MAX_JOB_TIME_MS
   * may be below the 3000 default).
   */
  jobTimeGiven: boolean;
  mode: ListenerMode;
  pollInterval: number;
  /** Cut the stream mid-run (the network disruption); `--no-drop` runs undisturbed. */
  drop: boolean;
  /** Use this running server instead of starting one. */
  url?: string;
  /** HEYGEN_API_KEY, for a --url server with API keys on (the run's own asks for none). */
  apiKey?: string;
  /** Port for the server the run starts; 0 picks a free one. */
  port: number;
  /**
   * heygen-api instances to start (1..8). Above 1 they share a Redis of the run's own
   * (`JOBS_DRIVER=redis`) behind the proxy, which sends each new connection to the next one, and
   * the disruption kills the instance holding the client's stream instead of cutting it.
   */
  instances: number;
  json: boolean;
  help: boolean;
  version: boolean;
  /**
   * With `sse` or `auto`: fall back to polling when the stream breaks (the library's `fallback`).
   * `--no-fallback` shows SSE reconnecting and resuming on its own; POLL has nothing to fall from.
   */
  fallback: boolean;
  /** Jobs (by number, 1-based) that the server is asked to fail, to exercise the failure path. */
  fail: number[];
  /**
   * Every job also reports its final state by webhook to a receiver the run starts, which checks
   * each signature and answers 500 to job 1's first attempt, so the report shows a retry (issue 19).
   */
  webhook: boolean;
}

/** The most instances `--instances` starts: each is a Node process on a machine of a few cores. */
export const MAX_INSTANCES = 8;

/** A command line the run cannot follow; main prints its one-line message and exits 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export const HELP = `Usage: heygen-cli [options]

Starts heygen-api, creates jobs with heygen-lib, cuts the event stream midway (a real network
disruption through a local proxy), waits for every job and reports what each status cost and how
late it came.

Options:
  --jobs <n>            jobs to create (default 5)
  --job-time <ms>       how long each job takes (default: JOB_TIME, else 3000; with --url, the
                        server's own unless given)
  --mode <mode>         auto | sse | poll (default auto)
  --poll-interval <ms>  polling budget: the shortest interval between polls (default 1000)
  --no-drop             do not disrupt the network
  --no-fallback         sse/auto: no fallback to polling; SSE reconnects and resumes by itself
  --url <url>           use a running heygen-api (http://) instead of starting one
  --port <port>         port for the started server (default: any free port)
  --instances <n>       start n heygen-api instances, 1 to 8 (default 1); above 1 they share a
                        redis-server of the run's own (on PATH, or REDIS_SERVER), the proxy
                        spreads connections over them, and the disruption kills (SIGKILL) the
                        instance holding the event stream, restarted when the network heals
  --fail <n>            make job n fail on the server (repeatable), to see a failed run
  --webhook             also learn each job's final state by webhook: a local receiver verifies
                        every signature, answers 500 to job 1's first attempt (the retry shows),
                        and the report adds each job's webhook delay and attempts; with --url
                        the server must run with WEBHOOK_ALLOW_PRIVATE=true
  --json                print the report as JSON on stdout (logs go to stderr)
  -h, --help            show this help
  -v, --version         print the version

Environment: JOB_TIME (default job time), NO_COLOR (plain output), REDIS_SERVER (the
redis-server binary for --instances above 1; default: redis-server on PATH), HEYGEN_API_KEY
(the API key of a --url server with API_KEYS set).
Exit status: 0 when every job completed and was seen; 1 when not, or when a server or
redis-server cannot start; 2 for a bad command line;
130 on Ctrl-C (SIGINT), 143 on SIGTERM.`;

/** The one hint a usage error ends with, instead of the whole help text. */
export const HELP_HINT = "run 'heygen-cli --help' for the options";

const STRING_OPTIONS = new Set([
  '--jobs',
  '--job-time',
  '--mode',
  '--poll-interval',
  '--url',
  '--port',
  '--instances',
  '--fail',
]);

/**
 * `--jobs -1` as `--jobs=-1`: Node's parseArgs takes a value starting with a dash for a forgotten
 * value ("argument is ambiguous"); a negative number is a value, and gets the range message.
 */
function joinNegativeValues(argv: string[]): string[] {
  const joined: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const next = argv[i + 1];
    if (STRING_OPTIONS.has(arg) && next !== undefined && /^-\d/.test(next)) {
      joined.push(`${arg}=${next}`);
      i++;
    } else joined.push(arg);
  }
  return joined;
}

/** Node's parseArgs messages, made one line and about this command. */
function usageMessage(error: unknown): string {
  const { code, message } = error as { code?: string; message: string };
  const firstLine = message.split('\n')[0]!;
  const quoted = /'([^']*)'/.exec(firstLine)?.[1] ?? firstLine;
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return `unknown option ${quoted}`;
  if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
    // After `--`, an option is an argument too (review of 2026-12-01: "unexpected argument
    // --jobs: every option starts with --").
    return quoted.startsWith('-')
      ? `unexpected argument ${quoted}: options come before --`
      : `unexpected argument ${quoted}: every option starts with --`;
  }
  const option = /Option '(-[-\w]+)/.exec(firstLine)?.[1];
  if (option && /argument missing|ambiguous/.test(firstLine)) return `${option} needs a value`;
  return firstLine;
}

function integer(
  name: string,
  raw: string | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (raw === undefined) return fallback;
  const value = /^\d+$/.test(raw.trim()) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new UsageError(
      `${name} must be an integer from ${min} to ${max}, not ${JSON.stringify(raw)}`,
    );
  }
  return value;
}

export function parseCliArgs(
  argv: string[],
  env: Record<string, string | undefined> = {},
): CliOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: joinNegativeValues(argv),
      strict: true,
      allowPositionals: false,
      options: {
        jobs: { type: 'string' },
        'job-time': { type: 'string' },
        mode: { type: 'string' },
        'poll-interval': { type: 'string' },
        'no-drop': { type: 'boolean' },
        'no-fallback': { type: 'boolean' },
        url: { type: 'string' },
        port: { type: 'string' },
        instances: { type: 'string' },
        json: { type: 'boolean' },
        fail: { type: 'string', multiple: true },
        webhook: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
    }));
  } catch (error) {
    throw new UsageError(usageMessage(error));
  }

  const mode = values.mode ?? 'auto';
  if (mode !== 'auto' && mode !== 'sse' && mode !== 'poll') {
    throw new UsageError(`--mode must be auto, sse or poll, not ${JSON.stringify(mode)}`);
  }
  // The disruption proxy relays plain HTTP: the run cannot sit in front of a TLS server.
  if (values.url !== undefined && !(/^http:\/\//i.test(values.url) && URL.canParse(values.url))) {
    throw new UsageError(
      `--url must be an http:// URL such as http://localhost:3000, not ${JSON.stringify(values.url)}`,
    );
  }
  if (values.url !== undefined && values.port !== undefined) {
    throw new UsageError('--port is for the server the run starts; it cannot be used with --url');
  }
  if (mode === 'poll' && values['no-fallback']) {
    throw new UsageError(
      '--no-fallback is for --mode sse or auto: polling has nothing to fall back from',
    );
  }
  const jobs = integer('--jobs', values.jobs, 5, 1, 1000);
  const instances = integer('--instances', values.instances, 1, 1, MAX_INSTANCES);
  if (instances > 1 && values.url !== undefined) {
    throw new UsageError(
      '--instances is for the servers the run starts; it cannot be used with --url',
    );
  }
  if (instances > 1 && values.port !== undefined) {
    throw new UsageError(
      '--port is for a single server; with --instances above 1 every instance takes a free port',
    );
  }
  const jobTimeGiven = values['job-time'] ?? (env.JOB_TIME?.trim() || undefined);
  return {
    jobs,
    jobTime: integer(
      // Named as the user gave it: the flag, or the environment variable behind its default.
      values['job-time'] === undefined ? 'JOB_TIME' : '--job-time',
      jobTimeGiven,
      3000,
      0,
      600_000,
    ),
    jobTimeGiven: jobTimeGiven !== undefined,
    mode,
    pollInterval: integer('--poll-interval', values['poll-interval'], 1000, 10, 600_000),
    drop: !values['no-drop'],
    ...(values.url !== undefined && { url: values.url.replace(/\/+$/, '') }),
    ...(values.url !== undefined &&
      env.HEYGEN_API_KEY?.trim() && { apiKey: env.HEYGEN_API_KEY.trim() }),
    port: integer('--port', values.port, 0, 0, 65_535),
    instances,
    json: values.json ?? false,
    help: values.help ?? false,
    version: values.version ?? false,
    fallback: mode !== 'poll' && !values['no-fallback'],
    fail: (values.fail ?? []).map((raw) => integer('--fail', raw, 0, 1, jobs)),
    webhook: values.webhook ?? false,
  };
}
