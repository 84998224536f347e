import { describe, expect, it } from 'vitest';
import { fakeClock } from 'heygen-test-support';
import { SSEError } from '../errors/sse-error.js';
import { transportHostStub } from '../../test/support/fakes.js';
import { createSseTransport, type Connect, type StreamHandlers } from './sse-transport.js';
import type { TransportState } from './transport.js';

/** One stream opened by the transport, driven by the test. */
interface Stream {
  on: StreamHandlers;
  openedAt: number;
  closed: boolean;
}

/** An SSE transport over a scripted connect, with the client's default 15 s heartbeat. */
const newSut = () => {
  const host = transportHostStub({ ids: () => [1] });
  const streams: Stream[] = [];
  const connect: Connect = (_url, on) => {
    const stream: Stream = { on, openedAt: Date.now(), closed: false };
    streams.push(stream);
    return () => {
      stream.closed = true;
    };
  };
  const states: TransportState[] = [];
  const sut = createSseTransport(host, connect, 3, (state) => states.push(state));
  const connected = (heartbeatMs: number): void => {
    const data = JSON.stringify({ clientId: 'c1', heartbeatMs, resumed: false });
    streams.at(-1)!.on.data(data.length);
    streams.at(-1)!.on.event('connected', data, '');
  };
  /** The errors of the failures reported so far. */
  const failures = () => states.flatMap((state) => ('error' in state ? [state.error] : []));
  return { sut, http: host.http, streams, states, connected, failures };
};

describe(createSseTransport.name, () => {
  describe('before the connected event', () => {
    it('should fail a stream that sends no connected event within 10 s, and reconnect', async () => {
      using clock = fakeClock();
      const { sut, streams, states, failures } = newSut();
      sut.start();
      await clock.advance(9_999);
      expect(failures()).toEqual([]);
      await clock.advance(1); // 10 s, not 2.5 × 15 s
      expect(streams[0]!.closed).toBe(true);
      expect(states.at(-1)).toMatchObject({ state: 'connecting', transport: 'sse', attempt: 1 });
      expect(failures()).toEqual([expect.any(SSEError)]);
      expect(failures()[0]!.message).toMatch(/No connected event.*proxy buffering/);
      await clock.advance(100); // past the backoff
      expect(streams).toHaveLength(2);
      sut.close();
    });

    it('should not let bytes without a connected event extend the 10 s bound', async () => {
      using clock = fakeClock();
      const { sut, http, streams, failures } = newSut();
      sut.start();
      for (let i = 0; i < 4; i++) {
        await clock.advance(2000);
        streams[0]!.on.data(2048); // a buffering proxy's padding, a comment, half an event
      }
      await clock.advance(1999);
      expect(failures()).toEqual([]);
      await clock.advance(1); // 10 s after the open, 2 s after the last bytes
      expect(failures()[0]!.message).toMatch(/No connected event/);
      expect(streams[0]!.closed).toBe(true);
      expect(http.stats.sse.bytes).toBe(4 * 2048); // counted all the same
      sut.close();
    });
  });

  describe('after the connected event', () => {
    it('should watch for 2.5 heartbeats of silence, and hold the next stream to 10 s again', async () => {
      using clock = fakeClock();
      const { sut, streams, states, connected, failures } = newSut();
      sut.start();
      await clock.advance(5000);
      connected(15_000);
      expect(states.at(-1)).toEqual({ state: 'open', transport: 'sse' });
      await clock.advance(20_000);
      streams[0]!.on.data(20); // a heartbeat
      await clock.advance(37_499);
      expect(failures()).toEqual([]); // past 10 s: the heartbeat bound applies
      await clock.advance(1); // 2.5 × 15 s of silence
      expect(failures().map((error) => error.message)).toEqual(['No heartbeat']);
      expect(streams[0]!.closed).toBe(true);
      // The reconnected stream has said nothing yet: back to the first-event bound.
      await clock.advance(100);
      expect(streams).toHaveLength(2);
      await clock.advance(10_000);
      expect(failures()).toHaveLength(2);
      expect(failures()[1]!.message).toMatch(/No connected event/);
      sut.close();
    });

    it('should hold a stream to 2.5 heartbeats before connected when the server beats faster', async () => {
      using clock = fakeClock();
      const { sut, streams, connected, failures } = newSut();
      sut.start();
      connected(1000); // the heartbeat learned from this stream bounds the next one
      await clock.advance(2500);
      expect(failures().map((error) => error.message)).toEqual(['No heartbeat']);
      await clock.advance(100);
      expect(streams).toHaveLength(2);
      await clock.advance(streams[1]!.openedAt + 2499 - clock.now());
      expect(failures()).toHaveLength(1);
      await clock.advance(1); // min(10 s, 2.5 × 1 s)
      expect(failures()[1]!.message).toMatch(/No connected event/);
      sut.close();
    });
  });
});
