import { beforeEach, describe, expect, it } from 'vitest';
import { fakeClock } from 'heygen-test-support';
import type { SSEError } from '../errors/sse-error.js';
import { FakeEventSource, transportHostStub } from '../../test/support/fakes.js';
import { eventSourceConnect } from './event-source-connect.js';
import { MAX_EVENT_SIZE } from './sse-parser.js';
import { createSseTransport, type StreamHandlers } from './sse-transport.js';
import type { TransportState } from './transport.js';

const handlers = () => {
  const events: string[][] = [];
  const failures: SSEError[] = [];
  const on: StreamHandlers = {
    data: () => {},
    event: (type, data, id) => events.push([type, data, id]),
    fail: (error) => failures.push(error),
  };
  return { on, events, failures };
};

beforeEach(() => {
  FakeEventSource.instances = [];
});

describe(eventSourceConnect.name, () => {
  it('should hand over events with their last event id', () => {
    const { on, events, failures } = handlers();
    eventSourceConnect(FakeEventSource, () => ({}))('http://x/status?uuid=u', on);
    FakeEventSource.last.emit('job', '{}', '4');
    expect(events).toEqual([['job', '{}', '4']]);
    expect(failures).toEqual([]);
  });

  // The bounds of the built-in parser (sse-parser.ts), as far as whole events show them.
  const long = 'x'.repeat(MAX_EVENT_SIZE + 1);
  it.each([
    ['an event', 'Event too large', long, '1'],
    ['an id line', 'Line too long', '{}', long],
  ])('should fail, and close the EventSource, on %s past the bound', (_name, message, data, id) => {
    const { on, events, failures } = handlers();
    eventSourceConnect(FakeEventSource, () => ({}))('http://x/status?uuid=u', on);
    FakeEventSource.last.emit('job', data, id);
    expect(failures.map((error) => error.message)).toEqual([message]);
    expect(events).toEqual([]);
    expect(FakeEventSource.last.closed).toBe(true);
  });

  it.each([
    [15_000, 37_500],
    [1e12, 750_000], // at most 5 min a heartbeat, whatever the server says
  ])(
    'should close, within 2.5 heartbeats of %i ms, a stream whose line never ends',
    async (heartbeatMs, within) => {
      using clock = fakeClock();
      const host = transportHostStub({ ids: () => [1] });
      const states: TransportState[] = [];
      const sut = createSseTransport(
        host,
        eventSourceConnect(FakeEventSource, () => ({})),
        0,
        (state) => states.push(state),
      );
      sut.start();
      FakeEventSource.last.connect(heartbeatMs);
      // `data: xxx…` with no line break: an EventSource buffers it and shows nothing at all.
      await clock.advance(within - 1);
      expect(FakeEventSource.last.closed).toBe(false);
      await clock.advance(1);
      expect(FakeEventSource.last.closed).toBe(true); // its buffer goes with it
      expect(states.at(-1)).toMatchObject({ state: 'closed', error: { message: 'No heartbeat' } });
    },
  );
});
