import { fakeClock } from 'heygen-test-support';
import { describe, expect, it } from 'vitest';
import { ConnectionWatch } from './connection.js';

describe(ConnectionWatch.name, () => {
  it('should tell the transport delivering now, none when idle or closed', () => {
    const sut = new ConnectionWatch();
    expect(sut.transport).toBeUndefined();
    sut.onStateChange({ state: 'connecting', transport: 'sse', attempt: 0 });
    expect(sut.transport).toBe('sse');
    sut.onStateChange({ state: 'open', transport: 'poll' });
    expect(sut.transport).toBe('poll');
    sut.onStateChange({ state: 'closed' });
    expect(sut.transport).toBeUndefined();
  });

  it('should resolve at once when a stream is open', async () => {
    const sut = new ConnectionWatch();
    sut.onStateChange({ state: 'open', transport: 'sse' });
    await expect(sut.streaming(1000)).resolves.toBe(true);
  });

  it('should wait for the stream to open, or give up when the time runs out', async () => {
    using clock = fakeClock();
    const sut = new ConnectionWatch();
    sut.onStateChange({ state: 'open', transport: 'poll' });
    const back = sut.streaming(5000);
    sut.onStateChange({ state: 'connecting', transport: 'sse', attempt: 0 });
    await clock.advance(1000);
    sut.onStateChange({ state: 'open', transport: 'sse' });
    await expect(back).resolves.toBe(true);

    sut.onStateChange({ state: 'open', transport: 'poll' });
    const never = sut.streaming(5000);
    await clock.advance(5000);
    await expect(never).resolves.toBe(false);
  });
});
