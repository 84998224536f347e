import { type LogLevel } from '@nestjs/common';

/** Raised at start when an environment variable has a bad value; lists every problem at once. */
export class ConfigError extends Error {
  override name = 'ConfigError';

  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
  }
}

const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];

/**
 * The server's settings, read once from the environment and validated (README, "Configuration").
 * A class, so it can be injected by its own type.
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
  maxStreamsPerClient!: number;
  maxActiveJobsPerClient!: number;
  maxBatchIds!: number;
  maxBodyBytes!: number;
  streamBufferBytes!: number;
  pollHintMarginMs!: number;
  /** `true` allows any origin. */
  corsOrigins!: string[] | true;
  /** Empty: no authentication. */
  apiKeys!: string[];
  /** The levels Nest's logger prints: the chosen LOG_LEVEL and everything more severe. */
  logLevels!: LogLevel[];
}

type Env = Record<string, string | undefined>;

export function parseConfig(env: Env): AppConfig {
  const problems: string[] = [];

  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name]?.trim();
    if (raw === undefined || raw === '') return fallback;
    const value = /^-?\d+$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      problems.push(`${name}=${JSON.stringify(raw)}: expected an integer from ${min} to ${max}`);
      return fallback;
    }
    return value;
  };
  const list = (name: string): string[] =>
    (env[name] ?? '')
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '');

  const config = new AppConfig();
  config.port = int('PORT', 3000, 0, 65_535);
  config.host = env.HOST?.trim() || '0.0.0.0';
  config.maxJobTimeMs = int('MAX_JOB_TIME_MS', 600_000, 0, 86_400_000);
  config.jobTimeMs = int('JOB_TIME', 3000, 0, config.maxJobTimeMs);
  config.progressIntervalMs = int('PROGRESS_INTERVAL_MS', 500, 10, 3_600_000);
  config.heartbeatMs = int('HEARTBEAT_MS', 15_000, 50, 3_600_000);
  config.streamRetryMs = int('STREAM_RETRY_MS', 1000, 0, 3_600_000);
  config.retentionMs = int('RETENTION_MS', 600_000, 0, 86_400_000);
  config.replayLogSize = int('REPLAY_LOG_SIZE', 10_000, 1, 10_000_000);
  config.maxStreamsPerClient = int('MAX_STREAMS_PER_CLIENT', 8, 1, 100_000);
  config.maxActiveJobsPerClient = int('MAX_ACTIVE_JOBS_PER_CLIENT', 1000, 1, 10_000_000);
  config.maxBatchIds = int('MAX_BATCH_IDS', 1000, 1, 100_000);
  config.maxBodyBytes = int('MAX_BODY_BYTES', 1024, 16, 1_048_576);
  config.streamBufferBytes = int('STREAM_BUFFER_BYTES', 1_048_576, 1024, 1_073_741_824);
  config.pollHintMarginMs = int('POLL_HINT_MARGIN_MS', 10, 0, 60_000);

  const origins = list('CORS_ORIGINS');
  config.corsOrigins = origins.length === 0 || origins.includes('*') ? true : origins;
  for (const origin of origins) {
    if (origin !== '*' && !URL.canParse(origin)) {
      problems.push(
        `CORS_ORIGINS: ${JSON.stringify(origin)} is not an origin such as https://app.example.com`,
      );
    }
  }
  config.apiKeys = list('API_KEYS');

  const level = (env.LOG_LEVEL?.trim() || 'warn') as LogLevel;
  if (!LOG_LEVELS.includes(level)) {
    problems.push(`LOG_LEVEL=${JSON.stringify(level)}: expected one of ${LOG_LEVELS.join(', ')}`);
  }
  config.logLevels = LOG_LEVELS.slice(0, Math.max(1, LOG_LEVELS.indexOf(level) + 1));

  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
