import { describe, expect, it } from 'vitest';
import { CancelAfterPipe } from '../jobs/pipes/cancel-after.pipe.js';
import { MAX_CANCEL_AFTER_MS, parseDuration } from './duration.js';

describe(parseDuration.name, () => {
  it.each([
    ['90', 90_000],
    ['2.5', 2500],
    ['90s', 90_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['1500ms', 1500],
    ['1h30m', 5_400_000],
    ['1m30s', 90_000],
    ['1h2m3s4ms', 3_723_004],
    ['0.5h', 1_800_000],
    ['1.5ms', 2],
    ['0', 0],
    ['0s', 0],
  ])('should read %j as %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each([
    '',
    'soon',
    '-5s',
    '+5s',
    '5 s',
    '5S',
    '5sec',
    '1m1h',
    '5s5s',
    '1.s',
    '.5s',
    'ms',
    'h',
    '5s,6s',
    '1e3',
    '9'.repeat(40),
  ])('should refuse %j', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
});

describe(CancelAfterPipe.name, () => {
  const sut = new CancelAfterPipe();

  it('should pass an absent header through', () => {
    expect(sut.transform(undefined)).toBeUndefined();
  });

  it('should give a duration in ms, allowing the spaces around a header value', () => {
    expect(sut.transform(' 5m ')).toBe(300_000);
    expect(sut.transform('24h')).toBe(MAX_CANCEL_AFTER_MS);
  });

  it.each([
    ['soon', /a duration/],
    ['0', /greater than zero/],
    ['0.0001', /greater than zero/],
    ['24h1ms', /at most 24h/],
    [['5s', '6s'], /sent once/],
  ])('should refuse %j with INVALID_CANCEL_AFTER', (value, message) => {
    let thrown: unknown;
    try {
      sut.transform(value);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({ code: 'INVALID_CANCEL_AFTER' });
    expect((thrown as Error).message).toMatch(message);
  });
});
