import { describe, expect, it } from 'vitest';
import { parsePreferWait } from './prefer.js';

describe(parsePreferWait.name, () => {
  it.each([
    ['wait=10', 10],
    ['wait=0', 0],
    ['wait=007', 7],
    ['WAIT=5', 5],
    ['Wait = 5', 5],
    ['wait="5"', 5],
    ['respond-async, wait=100', 100],
    ['respond-async,wait=3;foo=bar', 3],
    ['handling=lenient; x="a,b", wait=4', 4],
    ['return=minimal, wait=2, wait=9', 2],
  ])('should read %j as %d seconds', (header, seconds) => {
    expect(parsePreferWait(header)).toBe(seconds);
  });

  it('should read several Prefer headers, the first wait counting', () => {
    expect(parsePreferWait(['return=minimal', 'wait=6', 'wait=1'])).toBe(6);
  });

  it.each([
    ['wait', Infinity],
    ['wait=', Infinity],
    ['wait=""', Infinity],
    ['wait=99999999999999999999999', Infinity],
    ['wait=9007199254740993', Infinity],
  ])('should read %j as the longest wait, for the caller to clamp', (header, seconds) => {
    expect(parsePreferWait(header)).toBe(seconds);
  });

  it.each([
    undefined,
    '',
    'respond-async',
    'waiting=5',
    'x-wait=5',
    'wait=-1',
    'wait=+5',
    'wait=1.5',
    'wait=1e3',
    'wait=soon',
    'wait=5s',
    'wait="5',
    'wait=5 6',
    'wait=abc, wait=5',
    '"wait=5"',
    'foo="wait=5"',
  ])('should ignore %j: no usable wait', (header) => {
    expect(parsePreferWait(header)).toBeUndefined();
  });
});
