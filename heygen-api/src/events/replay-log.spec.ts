import { describe, expect, it } from 'vitest';
import { ReplayLog } from './replay-log.js';

describe(ReplayLog.name, () => {
  it('should number items from 1 and report the head', () => {
    const sut = new ReplayLog<string>(3);
    expect(sut.head).toBe(0);
    expect(sut.append('a')).toBe(1);
    expect(sut.append('b')).toBe(2);
    expect(sut.head).toBe(2);
  });

  it('should return everything after a covered position, oldest first', () => {
    const sut = new ReplayLog<string>(3);
    ['a', 'b', 'c'].forEach((item) => sut.append(item));
    expect(sut.since(0)).toEqual(['a', 'b', 'c']);
    expect(sut.since(1)).toEqual(['b', 'c']);
    expect(sut.since(3)).toEqual([]);
  });

  it('should keep only the last `capacity` items and refuse positions before them', () => {
    const sut = new ReplayLog<string>(3);
    ['a', 'b', 'c', 'd', 'e'].forEach((item) => sut.append(item));
    expect(sut.since(2)).toEqual(['c', 'd', 'e']);
    expect(sut.since(1)).toBeUndefined();
    expect(sut.since(0)).toBeUndefined();
  });

  it('should refuse future, negative and non-integer positions', () => {
    const sut = new ReplayLog<string>(3);
    sut.append('a');
    expect(sut.since(2)).toBeUndefined();
    expect(sut.since(-1)).toBeUndefined();
    expect(sut.since(0.5)).toBeUndefined();
    expect(sut.since(NaN)).toBeUndefined();
  });

  it('should reject a capacity below 1', () => {
    expect(() => new ReplayLog(0)).toThrow(RangeError);
  });
});
