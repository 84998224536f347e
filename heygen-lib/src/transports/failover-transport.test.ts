import { describe, expect, it } from 'vitest';
import { fakeClock } from 'heygen-test-support';
import { SSEError } from '../errors/sse-error.js';
import { transportHostStub } from '../../test/support/fakes.js';
import { createFailoverTransport } from './failover-transport.js';
import type { StateListener, Transport, TransportFactory, TransportState } from './transport.js';

/** A transport driven by the test: it reports what the test tells it to. */
interface Scripted extends Transport {
  readonly name: string;
  readonly retries: number;
  report: StateListener;
  closed: boolean;
}

/** Factories that record every transport they make, and the order of starts and closes. */
const scripted = () => {
  const made: Scripted[] = [];
  const events: string[] = [];
  const factory =
    (kind: string): TransportFactory =>
    (retries, report) => {
      const name = `${kind}${made.filter((t) => t.name.startsWith(kind)).length + 1}`;
      const transport: Scripted = {
        name,
        retries,
        report,
        closed: false,
        start: () => events.push(`start ${name}`),
        wake: () => events.push(`wake ${name}`),
        close: () => {
          if (!transport.closed) events.push(`close ${name}`);
          transport.closed = true;
        },
      };
      made.push(transport);
      return transport;
    };
  const last = (kind: string): Scripted => made.filter((t) => t.name.startsWith(kind)).at(-1)!;
  return { stream: factory('sse'), poll: factory('poll'), made, events, last };
};

const newSut = () => {
  const host = transportHostStub({ heartbeatMs: 1000 });
  const { http } = host;
  const states: TransportState[] = [];
  const transports = scripted();
  const sut = createFailoverTransport(host, transports.stream, transports.poll, 3, (state) =>
    states.push(state),
  );
  return { sut, http, host, states, ...transports };
};

const lost = { state: 'closed', error: new SSEError('Stream lost') } as const;

describe(createFailoverTransport.name, () => {
  it('should pass the stream through while it works, with no retries of its own', () => {
    const { sut, states, last, events } = newSut();
    sut.start();
    last('sse').report({ state: 'open', transport: 'sse' });
    sut.wake();
    expect(last('sse').retries).toBe(0);
    expect(states).toEqual([{ state: 'open', transport: 'sse' }]);
    expect(events).toEqual(['start sse1', 'wake sse1']);
  });

  it('should poll at once when the stream fails, then let a probe that connects take over', async () => {
    using clock = fakeClock();
    const { sut, http, states, last, events } = newSut();
    sut.start();
    last('sse').report(lost);
    expect(last('poll').retries).toBe(3);
    last('poll').report({ state: 'open', transport: 'poll' });
    await clock.advance(100);
    last('sse').report(lost); // the first probe fails: try again later
    await clock.advance(200);
    last('sse').report({ state: 'open', transport: 'sse' });
    sut.wake();
    expect(events).toEqual([
      'start sse1',
      'start poll1',
      'start sse2',
      'start sse3',
      'close poll1', // only once the probe streams: no gap
      'wake sse3',
    ]);
    expect(states).toEqual([
      { state: 'open', transport: 'poll' },
      { state: 'open', transport: 'sse' },
    ]);
    expect(http.stats).toMatchObject({ fallbacks: 1, upgrades: 1 });
  });

  it('should fall back again when the stream that took over fails', async () => {
    using clock = fakeClock();
    const { sut, http, last } = newSut();
    sut.start();
    last('sse').report(lost);
    await clock.advance(100);
    last('sse').report({ state: 'open', transport: 'sse' });
    last('sse').report(lost);
    expect(last('poll').name).toBe('poll2');
    expect(http.stats).toMatchObject({ fallbacks: 2, upgrades: 1 });
  });

  /**
   * Four flaps: each probe takes over once it connects, and drops `lifetimeMs` later. The gaps
   * before each probe, in ms.
   */
  const flapGaps = async (heartbeatMs: number, lifetimeMs: number): Promise<number[]> => {
    using clock = fakeClock();
    const { sut, last, host } = newSut();
    host.heartbeatMs = heartbeatMs;
    sut.start();
    last('sse').report(lost);
    const gaps: number[] = [];
    for (let flap = 0; flap < 4; flap++) {
      const before = Date.now();
      const probe = last('sse');
      while (last('sse') === probe) await clock.advance(10);
      gaps.push(Date.now() - before);
      last('sse').report({ state: 'open', transport: 'sse' }); // takes over...
      await clock.advance(lifetimeMs);
      last('sse').report(lost); // ...and drops
    }
    sut.close();
    return gaps;
  };

  it('should probe ever more slowly when each stream that takes over drops at once', async () => {
    // Backoff from 100 ms doubling, 50–100 % jitter: never reset by an unhealthy stream.
    const gaps = await flapGaps(1000, 0);
    gaps.forEach((gap, i) => expect(gap).toBeGreaterThanOrEqual(50 * 2 ** i));
  });

  it('should probe ever more slowly though each stream outlasts a short heartbeat before it drops (review of 2026-12-01)', async () => {
    // 50 ms: the least a server may announce; each stream outlasts a few of them.
    const gaps = await flapGaps(50, 200);
    gaps.forEach((gap, i) => expect(gap).toBeGreaterThanOrEqual(50 * 2 ** i));
  });

  it('should give up, closing the probe, when polling gives up', async () => {
    using clock = fakeClock();
    const { sut, states, last } = newSut();
    sut.start();
    last('sse').report(lost);
    await clock.advance(100);
    const probe = last('sse');
    const error = new SSEError('down');
    last('poll').report({ state: 'closed', error });
    expect(probe.closed).toBe(true);
    expect(states.at(-1)).toEqual({ state: 'closed', error });
    await clock.advance(60_000);
    expect(last('sse')).toBe(probe); // no probe after giving up
  });

  it('should close everything and probe no more once closed', async () => {
    using clock = fakeClock();
    const { sut, last, made } = newSut();
    sut.start();
    last('sse').report(lost);
    sut.close();
    await clock.advance(60_000);
    expect(made.map((t) => [t.name, t.closed])).toEqual([
      ['sse1', false], // closed itself when it reported `closed`
      ['poll1', true],
    ]);
  });
});
