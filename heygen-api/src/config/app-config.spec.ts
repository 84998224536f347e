import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from './app-config.js';

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
      corsOrigins: true,
      apiKeys: [],
      logLevels: ['fatal', 'error', 'warn'],
    });
  });

  it('should read every variable', () => {
    const sut = parseConfig({
      PORT: '8080',
      HOST: '127.0.0.1',
      JOB_TIME: '250',
      HEARTBEAT_MS: '100',
      CORS_ORIGINS: 'https://a.example, https://b.example',
      API_KEYS: 'k1,k2',
      LOG_LEVEL: 'debug',
    });
    expect(sut).toMatchObject({
      port: 8080,
      host: '127.0.0.1',
      jobTimeMs: 250,
      heartbeatMs: 100,
      corsOrigins: ['https://a.example', 'https://b.example'],
      apiKeys: ['k1', 'k2'],
      logLevels: ['fatal', 'error', 'warn', 'log', 'debug'],
    });
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

  it('should bound JOB_TIME by MAX_JOB_TIME_MS', () => {
    expect(() => parseConfig({ JOB_TIME: '5000', MAX_JOB_TIME_MS: '1000' })).toThrow(
      /JOB_TIME="5000"/,
    );
  });

  it('should reject a CORS origin that is not a URL', () => {
    expect(() => parseConfig({ CORS_ORIGINS: 'not an origin' })).toThrow(/CORS_ORIGINS/);
  });
});
