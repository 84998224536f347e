import { describe, expect, it, vi } from 'vitest';
import { fakeClock } from 'heygen-test-support';
import { SSEError } from '../errors/sse-error.js';
import { transportHostStub } from '../../test/support/fakes.js';
import { createSseTransport, type Connect, type StreamHandlers } from './sse-transport.js';
import type { TransportState } from './transport.js';

/** One stream opened by the transport, driven by the test. */
interface Stream {
  url: URL;
  on: StreamHandlers;
  openedAt: number;
  closed: boolean;
}

/** An SSE transport over a scripted connect, with the client's default 15 s heartbeat. */
const newSut = () => {
  const host = transportHostStub({ ids: () => [1] });
  const streams: Stream[] = [];
  const connect: Connect = (url, on) => {
    const stream: Stream = { url: new URL(url), on, openedAt: Date.now(), closed: false };
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
  return { sut, host, http: host.http, streams, states, connected, failures };
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

    it('should fail a stream whose bytes never complete an event, past 10 heartbeats', async () => {
      using clock = fakeClock();
      const { sut, streams, connected, failures } = newSut();
      sut.start();
      connected(1000);
      // A line that never ends, trickled in: each chunk within the silence bound, none an event.
      for (let ms = 0; ms < 10_000; ms += 1000) {
        await clock.advance(1000);
        streams[0]!.on.data(1);
      }
      expect(failures()).toEqual([]);
      await clock.advance(1000);
      streams[0]!.on.data(1);
      expect(failures().map((error) => error.message)).toEqual(['No complete event']);
      expect(streams[0]!.closed).toBe(true);
      sut.close();
    });

    it('should keep a healthy stream when the wall clock jumps (review of 2026-12-01)', async () => {
      using clock = fakeClock();
      const { sut, streams, connected, failures } = newSut();
      sut.start();
      connected(1000);
      await clock.advance(900);
      // The system clock set an hour forward, then back: elapsed time did not change.
      vi.setSystemTime(Date.now() + 3_600_000);
      const beat = JSON.stringify({ time: new Date().toISOString() });
      streams[0]!.on.data(beat.length);
      streams[0]!.on.event('heartbeat', beat, '');
      vi.setSystemTime(Date.now() - 7_200_000);
      await clock.advance(900);
      streams[0]!.on.data(beat.length);
      streams[0]!.on.event('heartbeat', beat, '');

      // It failed with "No complete event", and fell back to polling.
      expect(failures()).toEqual([]);
      expect(streams).toHaveLength(1);
      sut.close();
    });

    it('should hold a stream to 2.5 × 5 min when the server announces a longer heartbeat', async () => {
      using clock = fakeClock();
      const { sut, connected, failures } = newSut();
      sut.start();
      connected(1e12); // 2.5 × this would be a watchdog of 24 days
      await clock.advance(2.5 * 300_000 - 1);
      expect(failures()).toEqual([]);
      await clock.advance(1);
      expect(failures().map((error) => error.message)).toEqual(['No heartbeat']);
      sut.close();
    });

    it('should hold a stream to 2.5 × 50 ms when the server announces a shorter heartbeat (review of 2026-12-01)', async () => {
      using clock = fakeClock();
      const { sut, connected, failures } = newSut();
      sut.start();
      connected(1); // 2.5 ms: a healthy stream failed between two of its events
      await clock.advance(2.5 * 50 - 1);
      expect(failures()).toEqual([]);
      await clock.advance(1);
      expect(failures().map((error) => error.message)).toEqual(['No heartbeat']);
      sut.close();
    });
  });

  describe('retries', () => {
    it('should count a stream that goes silent after connected as a failure, and give up', async () => {
      using clock = fakeClock();
      const { sut, streams, states, connected, failures } = newSut();
      sut.start();
      for (let i = 0; i < 4; i++) {
        expect(streams).toHaveLength(i + 1);
        connected(400);
        // What came with `connected` (a proxy's first flush) proves nothing: then silence.
        streams.at(-1)!.on.event('snapshot', '{"jobs":[]}', '');
        await clock.advance(1000); // 2.5 heartbeats
        expect(streams.at(-1)!.closed).toBe(true);
        await clock.advance(500); // past the backoff (at most 100 ms × 2²)
      }
      expect(failures().map((error) => error.message)).toEqual(Array(4).fill('No heartbeat'));
      expect(states.flatMap((state) => ('attempt' in state ? [state.attempt] : []))).toEqual([
        0, 1, 2, 3,
      ]);
      expect(states.at(-1)).toEqual({ state: 'closed', error: failures()[3] });
      await clock.advance(60_000);
      expect(streams).toHaveLength(4); // the first + 3 retries
    });

    it('should start counting anew after a stream that carried events for a heartbeat', async () => {
      using clock = fakeClock();
      const { sut, streams, states, connected } = newSut();
      sut.start();
      for (let i = 0; i < 6; i++) {
        connected(400);
        await clock.advance(400);
        streams.at(-1)!.on.event('heartbeat', '{}', '');
        streams.at(-1)!.on.fail(new SSEError('Stream lost'));
        expect(states.at(-1)).toMatchObject({ state: 'connecting', attempt: 1 });
        await clock.advance(100); // past the first backoff
      }
      expect(streams).toHaveLength(7);
      sut.close();
    });
  });

  describe('resuming', () => {
    const heartbeat = (stream: Stream, id: string): void => stream.on.event('heartbeat', '{}', id);

    it('should not resume from an event id longer than 128 characters, but from the one before', async () => {
      using clock = fakeClock();
      const { sut, host, streams, connected } = newSut();
      sut.start();
      connected(15_000);
      heartbeat(streams[0]!, '7'.repeat(128));
      heartbeat(streams[0]!, '8'.repeat(129));
      heartbeat(streams[0]!, '9'.repeat(20_000));
      expect(host.lastEventId).toBe('7'.repeat(128));
      streams[0]!.on.fail(new SSEError('Stream lost'));
      await clock.advance(100);
      expect(streams[1]!.url.searchParams.get('lastEventId')).toBe('7'.repeat(128));
      sut.close();
    });

    it.each([
      [414, null],
      [431, null],
      [503, '7'],
      [401, '7'], // a stale token, say: nothing wrong with the id
    ])('after a refusal with HTTP %i, should resume from %s', async (status, resume) => {
      using clock = fakeClock();
      const { sut, host, streams } = newSut();
      host.lastEventId = '7';
      sut.start();
      expect(streams[0]!.url.searchParams.get('lastEventId')).toBe('7');
      streams[0]!.on.fail(new SSEError(`HTTP ${status}`, status));
      await clock.advance(100);
      expect(streams[1]!.url.searchParams.get('lastEventId')).toBe(resume);
      sut.close();
    });
  });
});
