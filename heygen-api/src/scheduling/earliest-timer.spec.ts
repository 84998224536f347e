import { fakeClock } from 'heygen-test-support';
import { describe, expect, it, vi } from 'vitest';
import { EarliestTimer } from './earliest-timer.js';

describe(EarliestTimer.name, () => {
  it('should fire once, at the earliest time asked for', async () => {
    using clock = fakeClock();
    const fire = vi.fn();
    const sut = new EarliestTimer(fire);

    sut.setFor(Date.now() + 300);
    sut.setFor(Date.now() + 100);
    sut.setFor(Date.now() + 200);
    await clock.advance(99);
    expect(fire).not.toHaveBeenCalled();
    await clock.advance(1);

    expect(fire).toHaveBeenCalledTimes(1);
    await clock.advance(1000);
    expect(fire).toHaveBeenCalledTimes(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('should be set again after it fired, and hold nothing once cleared', async () => {
    using clock = fakeClock();
    const fire = vi.fn();
    const sut = new EarliestTimer(fire);

    sut.setFor(Date.now() + 10);
    await clock.advance(10);
    sut.setFor(Date.now() + 50);
    sut.clear();
    await clock.advance(100);

    expect(fire).toHaveBeenCalledTimes(1);
    expect(vi.getTimerCount()).toBe(0);
  });
});
