import { describe, expect, it } from 'vitest';
import { ConfigError, digestApiKey, parseConfig, rateLimitsOn } from './app-config.js';

describe(parseConfig.name, () => {
  it('should use the documented defaults for an empty environment', () => {
    const sut = parseConfig({});
    expect(sut).toMatchObject({
      port: 3000,
      host: '0.0.0.0',
      jobTimeMs: 3000,
      heartbeatMs: 15_000,
      retentionMs: 600_000,
      replayLogSize: 10_000,
      maxStreamsPerClient: 8,
      maxStreams: 20_000,
      maxActiveJobsPerClient: 1000,
      maxJobsPerClient: 2000,
      maxActiveJobs: 100_000,
      maxWaitS: 25,
      maxWaits: 20_000,
      maxWaitsPerClient: 16,
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 30_000,
      maxRequestsPerSocket: 0,
      corsOrigins: true,
      apiKeyDigests: [],
      logLevel: 'warn',
      dashboard: true,
      metrics: true,
    });
  });

  it('should read every variable', () => {
    const sut = parseConfig({
      PORT: '8080',
      HOST: '127.0.0.1',
      JOB_TIME: '250',
      HEARTBEAT_MS: '100',
      CORS_ORIGINS: 'https://a.example, http://localhost:3000',
      API_KEYS: 'k1,k2',
      LOG_LEVEL: 'debug',
      MAX_STREAMS: '50',
      MAX_ACTIVE_JOBS_PER_CLIENT: '20',
      MAX_ACTIVE_JOBS: '500',
      MAX_RETAINED_JOBS: '600',
      MAX_ACTIVE_JOBS_PER_ADDRESS: '50',
      POSITION_RETENTION_MS: '0',
      MAX_RETAINED_POSITIONS: '700',
      MAX_WAIT_S: '0',
      MAX_WAITS: '10',
      HEADERS_TIMEOUT_MS: '2000',
      REQUEST_TIMEOUT_MS: '4000',
      MAX_REQUESTS_PER_SOCKET: '100',
    });
    expect(sut).toMatchObject({
      port: 8080,
      host: '127.0.0.1',
      jobTimeMs: 250,
      heartbeatMs: 100,
      corsOrigins: ['https://a.example', 'http://localhost:3000'],
      apiKeyDigests: [digestApiKey('k1'), digestApiKey('k2')],
      logLevel: 'debug',
      maxStreams: 50,
      // Defaults that would pass a smaller configured bound follow it.
      maxStreamsPerClient: 8,
      maxJobsPerClient: 2000,
      maxActiveJobsPerClient: 20,
      maxActiveJobs: 500,
      maxRetainedJobs: 600,
      maxActiveJobsPerAddress: 50,
      positionRetentionMs: 0,
      maxRetainedPositions: 700,
      maxWaitS: 0,
      maxWaits: 10,
      maxWaitsPerClient: 10,
      headersTimeoutMs: 2000,
      requestTimeoutMs: 4000,
      maxRequestsPerSocket: 100,
    });
  });

  it('should keep at least MAX_ACTIVE_JOBS_PER_CLIENT jobs per client by default', () => {
    expect(parseConfig({ MAX_ACTIVE_JOBS_PER_CLIENT: '5000' }).maxJobsPerClient).toBe(5000);
  });

  it('should retain at least MAX_ACTIVE_JOBS jobs by default', () => {
    expect(parseConfig({}).maxRetainedJobs).toBe(1_000_000);
    expect(parseConfig({}).maxActiveJobsPerAddress).toBe(0);
    expect(parseConfig({}).positionRetentionMs).toBe(86_400_000);
    expect(parseConfig({}).maxRetainedPositions).toBe(1_000_000);
    expect(parseConfig({ MAX_ACTIVE_JOBS: '2000000' }).maxRetainedJobs).toBe(2_000_000);
  });

  it('should keep no API key in full, only digests', () => {
    const sut = parseConfig({ API_KEYS: 'super-secret-key' });
    expect(JSON.stringify(sut)).not.toContain('super-secret-key');
    expect(Object.values(sut).map(String).join()).not.toContain('super-secret-key');
  });

  it('should fit its message on one line naming every bad variable', () => {
    let error: unknown;
    try {
      parseConfig({ PORT: 'eighty', HOST: 'not a host' });
    } catch (caught) {
      error = caught;
    }
    expect((error as Error).message).not.toContain('\n');
    expect((error as Error).message).toMatch(
      /^invalid configuration: PORT="eighty".*; HOST="not a host"/,
    );
  });

  it('should reject bad values, naming each variable and what it expects', () => {
    let error: unknown;
    try {
      parseConfig({ PORT: 'eighty', JOB_TIME: '-5', HEARTBEAT_MS: '1.5', LOG_LEVEL: 'loud' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const { problems } = error as ConfigError;
    expect(problems).toHaveLength(4);
    expect(problems[0]).toBe('PORT="eighty": expected an integer from 0 to 65535');
    expect(problems.join('\n')).toMatch(/JOB_TIME="-5"/);
    expect(problems.join('\n')).toMatch(/HEARTBEAT_MS="1.5"/);
    expect(problems.join('\n')).toMatch(/LOG_LEVEL="loud": expected one of/);
  });

  it.each([
    ['on', true],
    ['off', false],
    [' OFF ', false],
    ['', true],
  ])('should read DASHBOARD=%j', (value, dashboard) => {
    expect(parseConfig({ DASHBOARD: value }).dashboard).toBe(dashboard);
  });

  it.each(['no', 'false', '0', 'yes'])('should reject DASHBOARD=%s', (value) => {
    expect(() => parseConfig({ DASHBOARD: value })).toThrow(
      `invalid configuration: DASHBOARD="${value}": expected on or off`,
    );
  });

  it.each([
    ['on', true],
    ['off', false],
    [' OFF ', false],
    ['', true],
  ])('should read METRICS=%j', (value, metrics) => {
    expect(parseConfig({ METRICS: value }).metrics).toBe(metrics);
  });

  it.each(['no', 'false', '0', 'yes'])('should reject METRICS=%s', (value) => {
    expect(() => parseConfig({ METRICS: value })).toThrow(
      `invalid configuration: METRICS="${value}": expected on or off`,
    );
  });

  it('should bound JOB_TIME by MAX_JOB_TIME_MS', () => {
    expect(() => parseConfig({ JOB_TIME: '5000', MAX_JOB_TIME_MS: '1000' })).toThrow(
      /JOB_TIME="5000"/,
    );
  });

  it.each(['redis://127.0.0.1:6379', 'redis://127.0.0.1:6379/', 'redis://:pw@redis:6380/3'])(
    'should accept REDIS_URL=%s',
    (url) => {
      expect(parseConfig({ REDIS_URL: url }).redisUrl).toBe(url);
    },
  );

  it('should bring the defaults that depend on another setting along with it', () => {
    // Else every create without a duration was refused, and a 60 s headers timeout cut at 30 s.
    expect(parseConfig({ MAX_JOB_TIME_MS: '1000' }).jobTimeMs).toBe(1000);
    expect(parseConfig({ HEADERS_TIMEOUT_MS: '60000' }).requestTimeoutMs).toBe(60_000);
    expect(parseConfig({ MAX_ACTIVE_JOBS: '50' }).maxActiveJobsPerClient).toBe(50);
  });

  it.each([
    'not an origin',
    'https://app.example.com/',
    'https://app.example.com/path',
    'localhost:3000',
    'javascript:alert(1)',
    'ftp://files.example.com',
    'https://user@app.example.com',
    'https://app.example.com:443',
    'https://App.Example.com',
    'https://app.example.com?x=1',
  ])('should reject the CORS origin %s, which no browser sends', (origin) => {
    expect(() => parseConfig({ CORS_ORIGINS: origin })).toThrow(/CORS_ORIGINS/);
  });

  it.each(['https://app.example.com', 'http://localhost:3000', 'http://[::1]:8080', '*'])(
    'should accept the CORS origin %s',
    (origin) => {
      expect(() => parseConfig({ CORS_ORIGINS: origin })).not.toThrow();
    },
  );

  it.each(['127.0.0.1', '::', '::1', '0.0.0.0', 'localhost', 'api.example.com'])(
    'should accept the HOST %s',
    (host) => {
      expect(parseConfig({ HOST: host }).host).toBe(host);
    },
  );

  it.each(['not a host', 'http://localhost', 'localhost:3000', '-bad.example', '1.2.3.4.5.6/8'])(
    'should reject the HOST %s',
    (host) => {
      expect(() => parseConfig({ HOST: host })).toThrow(/^invalid configuration: HOST=/);
    },
  );

  it.each([
    ['an empty key', 'k1,,k2', /API_KEYS: key 2 of 3 is empty/],
    ['only commas', ',', /API_KEYS: key 1 of 2 is empty/],
    ['a key with a space', 'one key', /API_KEYS: key 1 of 1 is not a Bearer token/],
  ])('should reject API_KEYS with %s, never echoing a key', (_, value, message) => {
    let error: unknown;
    try {
      parseConfig({ API_KEYS: value });
    } catch (caught) {
      error = caught;
    }
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('one key');
  });

  it.each([
    ['MAX_STREAMS_PER_CLIENT', { MAX_STREAMS: '4', MAX_STREAMS_PER_CLIENT: '5' }],
    ['MAX_JOBS_PER_CLIENT', { MAX_JOBS_PER_CLIENT: '4', MAX_ACTIVE_JOBS_PER_CLIENT: '5' }],
    ['MAX_ACTIVE_JOBS_PER_CLIENT', { MAX_ACTIVE_JOBS: '4', MAX_ACTIVE_JOBS_PER_CLIENT: '5' }],
    ['REQUEST_TIMEOUT_MS', { HEADERS_TIMEOUT_MS: '5000', REQUEST_TIMEOUT_MS: '4000' }],
    ['MAX_ACTIVE_JOBS', { MAX_ACTIVE_JOBS: '0' }],
    ['MAX_JOBS_PER_CLIENT', { MAX_JOBS_PER_CLIENT: 'many' }],
    ['MAX_RETAINED_JOBS', { MAX_RETAINED_JOBS: '99', MAX_ACTIVE_JOBS: '100' }],
    ['MAX_ACTIVE_JOBS_PER_ADDRESS', { MAX_ACTIVE_JOBS: '4', MAX_ACTIVE_JOBS_PER_ADDRESS: '5' }],
    ['MAX_ACTIVE_JOBS_PER_ADDRESS', { MAX_ACTIVE_JOBS_PER_ADDRESS: '-1' }],
    ['POSITION_RETENTION_MS', { POSITION_RETENTION_MS: '-1' }],
    ['MAX_RETAINED_POSITIONS', { MAX_RETAINED_POSITIONS: '0' }],
    ['HEADERS_TIMEOUT_MS', { HEADERS_TIMEOUT_MS: '-1' }],
    ['MAX_REQUESTS_PER_SOCKET', { MAX_REQUESTS_PER_SOCKET: '1.5' }],
    ['MAX_WAIT_S', { MAX_WAIT_S: '-1' }],
    ['MAX_WAIT_S', { MAX_WAIT_S: '3601' }],
    ['MAX_WAITS', { MAX_WAITS: '0' }],
    ['MAX_WAITS_PER_CLIENT', { MAX_WAITS: '4', MAX_WAITS_PER_CLIENT: '5' }],
    ['MAX_WAITS_PER_CLIENT', { MAX_WAITS_PER_CLIENT: '0' }],
    ['KEEP_ALIVE_TIMEOUT_MS', { KEEP_ALIVE_TIMEOUT_MS: '10' }],
    ['RATE_LIMIT_CREATES_PER_CLIENT', { RATE_LIMIT_CREATES_PER_CLIENT: '-1' }],
    ['RATE_LIMIT_WINDOW_MS', { RATE_LIMIT_WINDOW_MS: '0' }],
    ['LOG_FORMAT', { LOG_FORMAT: 'xml' }],
    ['TRUST_PROXY', { TRUST_PROXY: 'yes' }],
    ['TRUST_PROXY', { TRUST_PROXY: '10.0.0.0/33' }],
    ['REDIS_URL', { REDIS_URL: 'redis://127.0.0.1:6379/abc' }],
    ['REDIS_URL', { REDIS_URL: 'redis://127.0.0.1:6379/1.5' }],
  ])('should reject %s out of its bounds', (name, env) => {
    expect(() => parseConfig(env)).toThrow(new RegExp(`^invalid configuration: ${name}=`));
  });

  it.each([
    ['', false],
    ['false', false],
    ['TRUE', true],
    ['2', 2],
    ['10.0.0.1, 192.168.0.0/16, ::1', ['10.0.0.1', '192.168.0.0/16', '::1']],
  ])('should read TRUST_PROXY=%j', (value, trustProxy) => {
    expect(parseConfig({ TRUST_PROXY: value }).trustProxy).toEqual(trustProxy);
  });

  it.each([
    ['log', 'info'],
    ['verbose', 'trace'],
    ['INFO', 'info'],
    ['silent', 'silent'],
  ])("should take LOG_LEVEL=%s as pino's %s", (value, level) => {
    expect(parseConfig({ LOG_LEVEL: value }).logLevel).toBe(level);
  });

  it('should read the rate limits, off unless set', () => {
    expect(rateLimitsOn(parseConfig({}).rateLimits)).toBe(false);
    const { rateLimits } = parseConfig({
      RATE_LIMIT_CREATES_PER_CLIENT: '10',
      RATE_LIMIT_WAITS_PER_ADDRESS: '20',
      RATE_LIMIT_LISTS_PER_CLIENT: '30',
    });
    expect(rateLimits).toEqual({
      create: { perClient: 10, perAddress: 0 },
      stream: { perClient: 0, perAddress: 0 },
      wait: { perClient: 0, perAddress: 20 },
      list: { perClient: 30, perAddress: 0 },
    });
    expect(rateLimitsOn(rateLimits)).toBe(true);
  });

  it('should read the webhook settings, with the issue 19 schedule by default', () => {
    expect(parseConfig({})).toMatchObject({
      maxBodyBytes: 4096,
      webhookAllowPrivate: false,
      webhookTimeoutMs: 15_000,
      webhookSecretGraceS: 86_400,
      webhookProgressIntervalMs: 500,
      webhookRetryScheduleMs: [
        0, 5000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000,
      ],
    });
    expect(parseConfig({}).webhookSecret).toBeUndefined();
    const secret = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
    expect(
      parseConfig({
        WEBHOOK_SECRET: secret,
        WEBHOOK_ALLOW_PRIVATE: 'true',
        WEBHOOK_TIMEOUT_MS: '200',
        WEBHOOK_RETRY_SCHEDULE: '0, 50,100',
        WEBHOOK_SECRET_GRACE_S: '0',
        WEBHOOK_PROGRESS_INTERVAL_MS: '0',
      }),
    ).toMatchObject({
      webhookSecret: secret,
      webhookAllowPrivate: true,
      webhookTimeoutMs: 200,
      webhookRetryScheduleMs: [0, 50, 100],
      webhookSecretGraceS: 0,
      webhookProgressIntervalMs: 0,
    });
  });

  it.each([
    ['WEBHOOK_SECRET', 'hunter2hunter2hunter2hunter2'],
    ['WEBHOOK_SECRET', `whsec_${Buffer.alloc(8).toString('base64')}`],
    ['WEBHOOK_ALLOW_PRIVATE', 'yes'],
    ['WEBHOOK_RETRY_SCHEDULE', '0,5s'],
    ['WEBHOOK_RETRY_SCHEDULE', '0,,5'],
    ['WEBHOOK_TIMEOUT_MS', '0'],
    ['WEBHOOK_PROGRESS_INTERVAL_MS', '-1'],
    ['WEBHOOK_PROGRESS_INTERVAL_MS', '0.5s'],
  ])('should reject %s=%s, never echoing a secret', (name, value) => {
    expect(() => parseConfig({ [name]: value })).toThrow(name);
    if (name === 'WEBHOOK_SECRET') expect(() => parseConfig({ [name]: value })).not.toThrow(value);
  });
});
