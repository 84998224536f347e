import { describe, expect, it } from 'vitest';
import { ReplayLog } from './replay-log.js';

describe(ReplayLog.name, () => {
  it('should keep items in order and count them', () => {
    const sut = new ReplayLog<string>(3);
    expect(sut.size).toBe(0);
    expect(sut.append('a')).toBeUndefined();
    expect(sut.append('b')).toBeUndefined();
    expect(sut.size).toBe(2);
    expect(sut.filter(() => true)).toEqual(['a', 'b']);
  });

  it('should keep only the last `capacity` items and hand back each one it pushes out', () => {
    const sut = new ReplayLog<string>(3);
    const evicted = ['a', 'b', 'c', 'd', 'e'].map((item) => sut.append(item));
    expect(evicted).toEqual([undefined, undefined, undefined, 'a', 'b']);
    expect(sut.filter(() => true)).toEqual(['c', 'd', 'e']);
    expect(sut.size).toBe(3);
  });

  it('should return only the matching items, oldest first', () => {
    const sut = new ReplayLog<number>(4);
    [1, 2, 3, 4, 5, 6].forEach((item) => sut.append(item));
    expect(sut.filter((item) => item % 2 === 0)).toEqual([4, 6]);
  });

  it('should reject a capacity below 1', () => {
    expect(() => new ReplayLog(0)).toThrow(RangeError);
  });
});
