import { createHash } from 'node:crypto';
import { isIP } from 'node:net';

/**
 * Raised at start when an environment variable has a bad value. Its message is one line naming
 * every bad variable and what it expects (main.ts prints it, and nothing else, then exits 1).
 */
export class ConfigError extends Error {
  override name = 'ConfigError';

  constructor(readonly problems: string[]) {
    super(`invalid configuration: ${problems.join('; ')}`);
  }
}

/** pino's levels, most severe first; `silent` logs nothing. */
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
const LOG_LEVELS: readonly LogLevel[] = [
  'silent',
  'fatal',
  'error',
  'warn',
  'info',
  'debug',
  'trace',
];
/** Nest's names for two of them, accepted as the configuration documented them before pino. */
const NEST_LEVEL_NAMES: Readonly<Record<string, LogLevel>> = { log: 'info', verbose: 'trace' };

/** How log lines are written: JSON lines for collectors, or coloured text for a person. */
export type LogFormat = 'json' | 'pretty';

/** [RFC 1123 §2.1] a host name: dot-separated labels of letters, digits and inner hyphens. */
const HOST_NAME =
  /^(?=.{1,253}$)[a-z\d](?:[a-z\d-]{0,61}[a-z\d])?(?:\.[a-z\d](?:[a-z\d-]{0,61}[a-z\d])?)*$/i;
/** [RFC 6750 §2.1] what a Bearer token may contain, so that a configured key can be sent at all. */
const BEARER_TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/** The SHA-256 digest of an API key: all the server keeps of it (issue 18: never a key in full). */
export const digestApiKey = (key: string): Buffer => createHash('sha256').update(key).digest();

/**
 * The server's settings, read once from the environment and validated (README, "Configuration";
 * the limits are described in docs/design.md, "Limits"). A class, so it can be injected by its
 * own type.
 */
export class AppConfig {
  port!: number;
  host!: string;
  /** JOB_TIME: how long a job takes unless its creation asks otherwise. */
  jobTimeMs!: number;
  maxJobTimeMs!: number;
  progressIntervalMs!: number;
  heartbeatMs!: number;
  streamRetryMs!: number;
  retentionMs!: number;
  replayLogSize!: number;
  /**
   * POSITION_RETENTION_MS (redis driver): how much longer than its events a client's last event id
   * stays resumable (its `head-since` key). The memory driver keeps the positions of the last
   * REPLAY_LOG_SIZE clients to go quiet instead.
   */
  positionRetentionMs!: number;
  /**
   * MAX_RETAINED_POSITIONS (redis driver): how many last positions of clients with no unfinished
   * job are kept, the one expiring first going past it. POSITION_RETENTION_MS alone bounded them
   * by time: a flood of fresh uuids left one each for a day.
   */
  maxRetainedPositions!: number;
  maxStreamsPerClient!: number;
  /** Open streams across all clients. */
  maxStreams!: number;
  maxActiveJobsPerClient!: number;
  /** Jobs kept per client, finished ones included. */
  maxJobsPerClient!: number;
  /** Unfinished jobs across all clients. */
  maxActiveJobs!: number;
  /** Jobs kept, finished ones included: by this process, or with the redis driver the deployment. */
  maxRetainedJobs!: number;
  /**
   * MAX_ACTIVE_JOBS_PER_ADDRESS: unfinished jobs of the clients of one address (an IPv6 /64, as
   * TRUST_PROXY gives it) together; 0, the default, counts none. Fresh uuids bypass the per-client
   * cap; this one holds across them.
   */
  maxActiveJobsPerAddress!: number;
  maxBatchIds!: number;
  /** MAX_WAIT_S: the longest `Prefer: wait` a status request is held for (0: never held). */
  maxWaitS!: number;
  /** Held status requests across all clients. */
  maxWaits!: number;
  maxWaitsPerClient!: number;
  maxBodyBytes!: number;
  streamBufferBytes!: number;
  pollHintMarginMs!: number;
  /** Node's `server.headersTimeout`: the longest a client may take to send a request's headers. */
  headersTimeoutMs!: number;
  /** Node's `server.requestTimeout`: the longest a client may take to send a whole request. */
  requestTimeoutMs!: number;
  /** Node's `server.maxRequestsPerSocket` (0: unlimited). */
  maxRequestsPerSocket!: number;
  /** Node's `server.keepAliveTimeout`: how long an idle keep-alive connection is kept open. */
  keepAliveTimeoutMs!: number;
  /** On SIGTERM, how long requests in flight may take to finish before their connections are cut. */
  shutdownGraceMs!: number;
  /** `true` allows any origin; otherwise exact origins (`scheme://host[:port]`). */
  corsOrigins!: string[] | true;
  /** SHA-256 digests of the API keys; empty: no authentication. */
  apiKeyDigests!: Buffer[];
  /** LOG_LEVEL: the least severe level written (heygen-api/src/logging/). */
  logLevel!: LogLevel;
  /** LOG_FORMAT: `json` unless unset on a terminal, where it is `pretty`. */
  logFormat!: LogFormat;
  /** RATE_LIMIT_*: requests allowed per window, per client and per address (0: no limit). */
  rateLimits!: RateLimits;
  /** RATE_LIMIT_WINDOW_MS: the window the rate limits count in. */
  rateLimitWindowMs!: number;
  /**
   * TRUST_PROXY: which peers' `X-Forwarded-For` names the client's address (the per-address rate
   * limits and the request log): `false` none, `true` any, a hop count, or addresses and CIDRs.
   */
  trustProxy!: TrustProxy;
  /** JOBS_DRIVER: where jobs, events and work live (docs/deployment.md). */
  jobsDriver!: JobsDriver;
  /** REDIS_URL: the Redis every instance shares, with the redis driver. */
  redisUrl!: string;
  /**
   * RUNNER_CONCURRENCY: jobs one instance's BullMQ worker runs at once (redis driver); 0: no
   * worker, the instance serves HTTP only and other instances run the jobs.
   */
  runnerConcurrency!: number;
  /** RUNNER_LOCK_MS: BullMQ's lock on a running job; a dead instance's jobs move on within 2×. */
  runnerLockMs!: number;
  /** HTTP_ADAPTER: the HTTP layer under Nest (docs/design.md, "Nest on Fastify"). */
  httpAdapter!: HttpAdapter;
  /** DASHBOARD: serve the live dashboard at `GET /` (heygen-api/web/, docs/design.md, "Dashboard"). */
  dashboard!: boolean;
  /** METRICS: serve Prometheus metrics at `GET /metrics` (docs/metrics.md). */
  metrics!: boolean;
  /** WEBHOOK_SECRET: the master signing secret (`whsec_…`); unset: one generated at start. */
  webhookSecret?: string;
  /** WEBHOOK_SECRET_GRACE_S: how long a rotated-out secret still signs. */
  webhookSecretGraceS!: number;
  /** WEBHOOK_ALLOW_PRIVATE: webhooks may reach loopback and private addresses (tests, local setups). */
  webhookAllowPrivate!: boolean;
  /** WEBHOOK_TIMEOUT_MS: the longest one delivery attempt may take. */
  webhookTimeoutMs!: number;
  /** WEBHOOK_RETRY_SCHEDULE: the delay before each attempt of a delivery, ms. */
  webhookRetryScheduleMs!: number[];
  /** WEBHOOK_PROGRESS_INTERVAL_MS: at most one `progress` webhook per job per this many ms. */
  webhookProgressIntervalMs!: number;
}

/** The requests the rate limits count (docs/design.md, "Rate limits"). */
export type RateLimitedKind = 'create' | 'stream' | 'wait' | 'list';
/** Requests allowed per window, per client (API key and uuid) and per address; 0 is no limit. */
export type RateLimits = Record<RateLimitedKind, { perClient: number; perAddress: number }>;

/** Where jobs, their events and their work live: this process, or Redis shared by many. */
export type JobsDriver = 'memory' | 'redis';
const JOBS_DRIVERS: readonly JobsDriver[] = ['memory', 'redis'];

/** The HTTP layer under Nest: Fastify by default, Express kept working and tested (issue 10). */
export type HttpAdapter = 'fastify' | 'express';
const HTTP_ADAPTERS: readonly HttpAdapter[] = ['fastify', 'express'];

type Env = Record<string, string | undefined>;

/** Reads integer settings: unset is the fallback; out of range or not a number is a problem. */
function intSetting(env: Env, problems: string[]) {
  return (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name]?.trim();
    if (raw === undefined || raw === '') return fallback;
    const value = /^-?\d+$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      problems.push(`${name}=${JSON.stringify(raw)}: expected an integer from ${min} to ${max}`);
      return fallback;
    }
    return value;
  };
}

export function parseConfig(env: Env): AppConfig {
  const problems: string[] = [];

  const int = intSetting(env, problems);
  const list = (name: string): string[] =>
    (env[name] ?? '')
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '');

  const config = new AppConfig();
  config.port = int('PORT', 3000, 0, 65_535);
  config.host = parseHost(env.HOST, problems);
  config.maxJobTimeMs = int('MAX_JOB_TIME_MS', 600_000, 0, 86_400_000);
  // The default follows a lower MAX_JOB_TIME_MS: else every create without a duration is refused.
  config.jobTimeMs = int('JOB_TIME', Math.min(3000, config.maxJobTimeMs), 0, config.maxJobTimeMs);
  config.progressIntervalMs = int('PROGRESS_INTERVAL_MS', 500, 10, 3_600_000);
  config.heartbeatMs = int('HEARTBEAT_MS', 15_000, 50, 3_600_000);
  config.streamRetryMs = int('STREAM_RETRY_MS', 1000, 0, 3_600_000);
  config.retentionMs = int('RETENTION_MS', 600_000, 0, 86_400_000);
  config.replayLogSize = int('REPLAY_LOG_SIZE', 10_000, 1, 10_000_000);
  config.positionRetentionMs = int('POSITION_RETENTION_MS', 86_400_000, 0, 30 * 86_400_000);
  config.maxRetainedPositions = int('MAX_RETAINED_POSITIONS', 1_000_000, 1, 100_000_000);
  config.maxStreams = int('MAX_STREAMS', 20_000, 1, 1_000_000);
  config.maxStreamsPerClient = int(
    'MAX_STREAMS_PER_CLIENT',
    Math.min(8, config.maxStreams),
    1,
    config.maxStreams,
  );
  config.maxActiveJobs = int('MAX_ACTIVE_JOBS', 100_000, 1, 10_000_000);
  // Unfinished jobs are never evicted: the cap must leave them room.
  config.maxRetainedJobs = int(
    'MAX_RETAINED_JOBS',
    Math.max(1_000_000, config.maxActiveJobs),
    config.maxActiveJobs,
    100_000_000,
  );
  // One client's cap above everyone's would never be reached: its client would get 503, not 429.
  config.maxActiveJobsPerClient = int(
    'MAX_ACTIVE_JOBS_PER_CLIENT',
    Math.min(1000, config.maxActiveJobs),
    1,
    config.maxActiveJobs,
  );
  // Off by default: behind a proxy, without TRUST_PROXY, every client has the proxy's address.
  config.maxActiveJobsPerAddress = int('MAX_ACTIVE_JOBS_PER_ADDRESS', 0, 0, config.maxActiveJobs);
  // Kept jobs include the unfinished ones: fewer kept than unfinished allowed makes no sense.
  config.maxJobsPerClient = int(
    'MAX_JOBS_PER_CLIENT',
    Math.max(2000, config.maxActiveJobsPerClient),
    config.maxActiveJobsPerClient,
    10_000_000,
  );
  config.maxBatchIds = int('MAX_BATCH_IDS', 1000, 1, 100_000);
  // Below the 30 s that many proxies and heygen-lib give one request (docs/design.md, "Held waits").
  config.maxWaitS = int('MAX_WAIT_S', 25, 0, 3600);
  config.maxWaits = int('MAX_WAITS', 20_000, 1, 1_000_000);
  config.maxWaitsPerClient = int(
    'MAX_WAITS_PER_CLIENT',
    Math.min(16, config.maxWaits),
    1,
    config.maxWaits,
  );
  // Room for a create body with a webhook URL of up to 2048 characters (issue 19).
  config.maxBodyBytes = int('MAX_BODY_BYTES', 4096, 16, 1_048_576);
  config.streamBufferBytes = int('STREAM_BUFFER_BYTES', 1_048_576, 1024, 1_073_741_824);
  config.pollHintMarginMs = int('POLL_HINT_MARGIN_MS', 10, 0, 60_000);
  config.headersTimeoutMs = int('HEADERS_TIMEOUT_MS', 10_000, 100, 600_000);
  // Node requires requestTimeout ≥ headersTimeout (or 0, which we do not offer: it is no limit);
  // the default follows a longer headers timeout, which it would otherwise cut short.
  config.requestTimeoutMs = int(
    'REQUEST_TIMEOUT_MS',
    Math.max(30_000, config.headersTimeoutMs),
    config.headersTimeoutMs,
    3_600_000,
  );
  // Off by default: Node answers 503 to a request sent after the last one on a connection, and
  // clients that ignore `Connection: close` (autocannon among them) would see those.
  config.maxRequestsPerSocket = int('MAX_REQUESTS_PER_SOCKET', 0, 0, 10_000_000);
  // Node's default. Behind a load balancer it must outlast the balancer's idle timeout (AWS ALB:
  // 60 s), or the balancer reuses a connection the server is closing and its client sees a 502.
  config.keepAliveTimeoutMs = int('KEEP_ALIVE_TIMEOUT_MS', 5000, 1000, 3_600_000);
  // Requests finish in milliseconds; the grace is for one whose body is still arriving. Under
  // Kubernetes' 30 s termination grace, with room for the rest of the shutdown.
  config.shutdownGraceMs = int('SHUTDOWN_GRACE_MS', 10_000, 0, 600_000);

  const origins = list('CORS_ORIGINS');
  config.corsOrigins = origins.length === 0 || origins.includes('*') ? true : origins;
  for (const origin of origins) {
    if (origin !== '*' && !isOrigin(origin)) {
      problems.push(
        `CORS_ORIGINS: ${JSON.stringify(origin)} is not an origin: expected scheme://host[:port] such as https://app.example.com (http or https, no path, no trailing slash)`,
      );
    }
  }
  config.apiKeyDigests = parseApiKeys(env.API_KEYS, problems);

  config.logLevel = parseLogLevel(env.LOG_LEVEL, problems);
  config.logFormat = parseLogFormat(env.LOG_FORMAT, problems);
  config.rateLimits = parseRateLimits(env, problems);
  config.rateLimitWindowMs = int('RATE_LIMIT_WINDOW_MS', 60_000, 100, 86_400_000);
  config.trustProxy = parseTrustProxy(env, problems);

  config.jobsDriver = parseJobsDriver(env, problems);
  config.redisUrl = parseRedisUrl(env.REDIS_URL, problems);
  config.runnerConcurrency = int('RUNNER_CONCURRENCY', 1000, 0, 100_000);
  config.runnerLockMs = int('RUNNER_LOCK_MS', 10_000, 200, 600_000);

  config.httpAdapter = parseHttpAdapter(env, problems);
  config.dashboard = parseDashboard(env, problems);
  config.metrics = parseMetrics(env, problems);

  const webhookSecret = parseWebhookSecret(env.WEBHOOK_SECRET, problems);
  if (webhookSecret !== undefined) config.webhookSecret = webhookSecret;
  config.webhookSecretGraceS = int('WEBHOOK_SECRET_GRACE_S', 86_400, 0, 30 * 86_400);
  config.webhookAllowPrivate = parseWebhookAllowPrivate(env.WEBHOOK_ALLOW_PRIVATE, problems);
  config.webhookTimeoutMs = int('WEBHOOK_TIMEOUT_MS', 15_000, 10, 300_000);
  config.webhookRetryScheduleMs = parseRetrySchedule(env.WEBHOOK_RETRY_SCHEDULE, problems);
  config.webhookProgressIntervalMs = int('WEBHOOK_PROGRESS_INTERVAL_MS', 500, 0, 60_000);

  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/**
 * An origin as a browser sends it in `Origin` (RFC 6454): `scheme://host[:port]`, lower case, no
 * default port, nothing after it. The CORS check compares strings, so anything else never matches.
 */
function isOrigin(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const url = new URL(value);
  return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === value;
}

/** HOST: an IP address or a host name, so that a typo is named here rather than in a stack trace. */
function parseHost(raw: string | undefined, problems: string[]): string {
  const host = raw?.trim() || '0.0.0.0';
  if (isIP(host) === 0 && !HOST_NAME.test(host)) {
    problems.push(
      `HOST=${JSON.stringify(host)}: expected an IP address (0.0.0.0, ::, 127.0.0.1) or a host name`,
    );
  }
  return host;
}

function parseLogLevel(raw: string | undefined, problems: string[]): LogLevel {
  const name = raw?.trim().toLowerCase() || 'warn';
  const level = NEST_LEVEL_NAMES[name] ?? (name as LogLevel);
  if (LOG_LEVELS.includes(level)) return level;
  problems.push(
    `LOG_LEVEL=${JSON.stringify(raw)}: expected one of ${LOG_LEVELS.join(', ')} (or log, verbose)`,
  );
  return 'warn';
}

/** RATE_LIMIT_*: read alone too, by AppModule.forRoot, which installs the guard only if one is set. */
export function parseRateLimits(env: Env, problems: string[] = []): RateLimits {
  const int = intSetting(env, problems);
  // Each variable named in full: test/readme.test.ts finds them here for .env.example.
  const most = 100_000_000;
  return {
    create: {
      perClient: int('RATE_LIMIT_CREATES_PER_CLIENT', 0, 0, most),
      perAddress: int('RATE_LIMIT_CREATES_PER_ADDRESS', 0, 0, most),
    },
    stream: {
      perClient: int('RATE_LIMIT_STREAMS_PER_CLIENT', 0, 0, most),
      perAddress: int('RATE_LIMIT_STREAMS_PER_ADDRESS', 0, 0, most),
    },
    wait: {
      perClient: int('RATE_LIMIT_WAITS_PER_CLIENT', 0, 0, most),
      perAddress: int('RATE_LIMIT_WAITS_PER_ADDRESS', 0, 0, most),
    },
    list: {
      perClient: int('RATE_LIMIT_LISTS_PER_CLIENT', 0, 0, most),
      perAddress: int('RATE_LIMIT_LISTS_PER_ADDRESS', 0, 0, most),
    },
  };
}

/** Whether any RATE_LIMIT_* is set: with none, no rate-limit guard is installed at all. */
export const rateLimitsOn = (limits: RateLimits): boolean =>
  Object.values(limits).some(({ perClient, perAddress }) => perClient > 0 || perAddress > 0);

/** TRUST_PROXY as parsed: off, every hop, a hop count, or addresses (http/trust-proxy.ts). */
export type TrustProxy = boolean | number | string[];

/**
 * TRUST_PROXY, in the forms Express's `trust proxy` and Fastify's `trustProxy` both accept; read
 * alone too, by createApp, since Fastify takes it when the adapter is made.
 */
export function parseTrustProxy(env: Env, problems: string[] = []): TrustProxy {
  const raw = env.TRUST_PROXY;
  const value = raw?.trim().toLowerCase() ?? '';
  if (value === '' || value === 'false') return false;
  if (value === 'true') return true;
  if (/^\d{1,3}$/.test(value)) return Number(value);
  const entries = value.split(',').map((entry) => entry.trim());
  const bad = entries.find((entry) => {
    const [address = '', prefix, ...rest] = entry.split('/');
    const version = isIP(address);
    const bits = version === 4 ? 32 : 128;
    return (
      version === 0 ||
      rest.length > 0 ||
      (prefix !== undefined && !(/^\d{1,3}$/.test(prefix) && Number(prefix) <= bits))
    );
  });
  if (bad === undefined) return entries;
  problems.push(
    `TRUST_PROXY=${JSON.stringify(raw)}: expected false, true, a hop count, or IP addresses and CIDRs separated by commas (${JSON.stringify(bad)} is none)`,
  );
  return false;
}

/** LOG_FORMAT: unset means JSON lines, or readable text when standard output is a terminal. */
function parseLogFormat(raw: string | undefined, problems: string[]): LogFormat {
  const value = raw?.trim().toLowerCase() || (process.stdout.isTTY ? 'pretty' : 'json');
  if (value === 'json' || value === 'pretty') return value;
  problems.push(`LOG_FORMAT=${JSON.stringify(raw)}: expected json or pretty`);
  return 'json';
}

/** JOBS_DRIVER: read alone too, by JobsModule.forRoot, before the rest of the configuration. */
export function parseJobsDriver(env: Env, problems: string[] = []): JobsDriver {
  const driver = (env.JOBS_DRIVER?.trim() || 'memory') as JobsDriver;
  if (JOBS_DRIVERS.includes(driver)) return driver;
  problems.push(
    `JOBS_DRIVER=${JSON.stringify(driver)}: expected one of ${JOBS_DRIVERS.join(', ')}`,
  );
  return 'memory';
}

/** HTTP_ADAPTER: read alone too, by createApp, which picks the adapter before the app exists. */
export function parseHttpAdapter(env: Env, problems: string[] = []): HttpAdapter {
  const adapter = (env.HTTP_ADAPTER?.trim().toLowerCase() || 'fastify') as HttpAdapter;
  if (HTTP_ADAPTERS.includes(adapter)) return adapter;
  problems.push(
    `HTTP_ADAPTER=${JSON.stringify(env.HTTP_ADAPTER)}: expected one of ${HTTP_ADAPTERS.join(', ')}`,
  );
  return 'fastify';
}

/** DASHBOARD: `on` or `off`; read alone too, by AppModule.forRoot, which imports it or not. */
export function parseDashboard(env: Env, problems: string[] = []): boolean {
  const value = env.DASHBOARD?.trim().toLowerCase() || 'on';
  if (value === 'on' || value === 'off') return value === 'on';
  problems.push(`DASHBOARD=${JSON.stringify(env.DASHBOARD)}: expected on or off`);
  return true;
}

/** METRICS: `on` or `off`; read alone too, by AppModule.forRoot, which serves the route or not. */
export function parseMetrics(env: Env, problems: string[] = []): boolean {
  const value = env.METRICS?.trim().toLowerCase() || 'on';
  if (value === 'on' || value === 'off') return value === 'on';
  problems.push(`METRICS=${JSON.stringify(env.METRICS)}: expected on or off`);
  return true;
}

/** REDIS_URL: redis:// or rediss:// with a host; the password, if any, is never echoed. */
function parseRedisUrl(raw: string | undefined, problems: string[]): string {
  const url = raw?.trim() || 'redis://127.0.0.1:6379';
  const parsed = URL.canParse(url) ? new URL(url) : undefined;
  if (
    !parsed ||
    !['redis:', 'rediss:'].includes(parsed.protocol) ||
    parsed.hostname === '' ||
    // The database, when given, is a number: ioredis would send `SELECT NaN` and fail with a trace.
    !/^(\/\d*)?$/.test(parsed.pathname)
  ) {
    const shown = parsed ? `${parsed.protocol}//${parsed.host}` : JSON.stringify(url);
    problems.push(`REDIS_URL=${shown}: expected redis://[user:password@]host[:port][/db]`);
  }
  return url;
}

/** WEBHOOK_SECRET: Standard Webhooks' form, `whsec_` and base64 of 24 to 64 bytes; never echoed. */
function parseWebhookSecret(raw: string | undefined, problems: string[]): string | undefined {
  const secret = raw?.trim();
  if (secret === undefined || secret === '') return undefined;
  const base64 = secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : undefined;
  const bytes =
    base64 !== undefined && /^[A-Za-z0-9+/]+={0,2}$/.test(base64)
      ? Buffer.from(base64, 'base64').length
      : 0;
  if (bytes < 24 || bytes > 64) {
    problems.push('WEBHOOK_SECRET: expected whsec_ followed by 24 to 64 bytes in base64');
    return undefined;
  }
  return secret;
}

function parseWebhookAllowPrivate(raw: string | undefined, problems: string[]): boolean {
  const value = raw?.trim().toLowerCase() || 'false';
  if (value === 'true' || value === 'false') return value === 'true';
  problems.push(`WEBHOOK_ALLOW_PRIVATE=${JSON.stringify(raw)}: expected true or false`);
  return false;
}

/**
 * When a webhook delivery is tried, each delay after the attempt before (issue 19): at once, then
 * 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h, Standard Webhooks' example, about a day and a half.
 */
export const DEFAULT_RETRY_SCHEDULE_MS: readonly number[] = [
  0,
  5_000,
  5 * 60_000,
  30 * 60_000,
  2 * 3_600_000,
  5 * 3_600_000,
  10 * 3_600_000,
  10 * 3_600_000,
];

/** WEBHOOK_RETRY_SCHEDULE: comma-separated delays in ms, one per attempt, 1 to 20 of them. */
function parseRetrySchedule(raw: string | undefined, problems: string[]): number[] {
  if (raw === undefined || raw.trim() === '') return [...DEFAULT_RETRY_SCHEDULE_MS];
  const steps = raw.split(',').map((step) => step.trim());
  const delays = steps.map((step) => (/^\d{1,9}$/.test(step) ? Number(step) : NaN));
  if (delays.length > 20 || delays.some((delay) => Number.isNaN(delay) || delay > 172_800_000)) {
    problems.push(
      `WEBHOOK_RETRY_SCHEDULE=${JSON.stringify(raw)}: expected 1 to 20 delays in ms (at most 2 days each) separated by commas, such as 0,5000,300000`,
    );
    return [...DEFAULT_RETRY_SCHEDULE_MS];
  }
  return delays;
}

/** API_KEYS: comma-separated Bearer tokens, kept as digests. A bad key is never echoed. */
function parseApiKeys(raw: string | undefined, problems: string[]): Buffer[] {
  if (raw === undefined || raw.trim() === '') return [];
  const keys = raw.split(',').map((key) => key.trim());
  const bad = keys.findIndex((key) => !BEARER_TOKEN.test(key));
  if (bad >= 0) {
    problems.push(
      `API_KEYS: key ${bad + 1} of ${keys.length} is ${keys[bad] === '' ? 'empty' : 'not a Bearer token (letters, digits and -._~+/ then any =)'}`,
    );
    return [];
  }
  return keys.map(digestApiKey);
}
