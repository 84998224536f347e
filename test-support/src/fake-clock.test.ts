import { describe, expect, it } from 'vitest';
import { fakeClock } from './fake-clock.js';

describe(fakeClock.name, () => {
  it('should start Date at the stubs’ time and move it only when advanced', async () => {
    using clock = fakeClock();
    expect(new Date().toISOString()).toBe('2026-11-23T18:00:00.000Z');
    await clock.advance(1500);
    expect(clock.now()).toBe(Date.parse('2026-11-23T18:00:01.500Z'));
  });

  it('should run the timers that fall due, and the promises they settle', async () => {
    using clock = fakeClock({ now: 0 });
    const fired: string[] = [];
    setTimeout(() => fired.push('timeout'), 100);
    const interval = setInterval(() => fired.push('tick'), 40);
    const settled = new Promise<number>((resolve) => setTimeout(() => resolve(Date.now()), 90));

    await clock.advance(99);
    expect(fired).toEqual(['tick', 'tick']);
    expect(await settled).toBe(90);
    await clock.advance(1);
    expect(fired).toEqual(['tick', 'tick', 'timeout']);
    clearInterval(interval);
  });

  it('should restore the real clock when its scope ends', () => {
    {
      using _clock = fakeClock({ now: 0, toFake: ['Date'] });
      expect(Date.now()).toBe(0);
    }
    expect(Date.now()).toBeGreaterThan(Date.parse('2025-01-01T00:00:00.000Z'));
  });
});
