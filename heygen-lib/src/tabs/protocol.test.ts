import { describe, expect, it } from 'vitest';
import { jobStub } from '../../test/support/fakes.js';
import { HttpError } from '../errors/http-error.js';
import { MessageParseError } from '../errors/message-parse-error.js';
import { SSEError } from '../errors/sse-error.js';
import {
  encode,
  fromWireError,
  fromWireState,
  parseMessage,
  PROTOCOL_VERSION,
  toWireError,
  toWireState,
  type TabBody,
} from './protocol.js';

const valid: TabBody[] = [
  { type: 'leader', mode: 'sse' },
  { type: 'state', mode: 'auto' },
  { type: 'state', mode: 'poll', state: { state: 'open', transport: 'poll' } },
  {
    type: 'state',
    mode: 'sse',
    state: {
      state: 'connecting',
      transport: 'sse',
      attempt: 2,
      error: { code: 'SSE_ERROR', message: 'x' },
    },
  },
  { type: 'state', mode: 'sse', state: { state: 'closed' } },
  { type: 'job', job: jobStub(1, 'running', 2), lastEventId: '42' },
  { type: 'job', job: jobStub(1, 'completed', 3) },
  { type: 'snapshot', jobs: [jobStub(1, 'pending', 1)], lastEventId: '7' },
  { type: 'missing', ids: [3, 4] },
  { type: 'error', ids: [3], error: { code: 'MESSAGE_PARSE', message: '{' } },
  { type: 'watch', ids: [] },
  { type: 'watch', ids: [1, 2], within: [[2, 500]] },
  { type: 'watch', ids: [1, 2], due: [[1, 0]] },
  { type: 'ping' },
  { type: 'mode', mode: 'poll' },
  { type: 'leave', lastEventId: '9' },
];

describe(parseMessage.name, () => {
  it.each(valid)('should accept what a tab of this version sends ($type)', (body) => {
    // Through a structured clone, as BroadcastChannel delivers it.
    expect(parseMessage(structuredClone(encode('tab-1', body)))).toEqual({
      from: 'tab-1',
      ...body,
    });
  });

  it.each([
    ['not an object', 'hello'],
    ['null', null],
    ['another version', { v: PROTOCOL_VERSION + 1, from: 'a', type: 'ping' }],
    ['no version', { from: 'a', type: 'ping' }],
    ['no sender', { v: 1, type: 'ping' }],
    ['an unknown type', { v: 1, from: 'a', type: 'reboot' }],
    ['a job of the wrong shape', { v: 1, from: 'a', type: 'job', job: { id: 'x' } }],
    ['a snapshot of the wrong shape', { v: 1, from: 'a', type: 'snapshot', jobs: [{}] }],
    ['ids that are not ids', { v: 1, from: 'a', type: 'watch', ids: [1, -2] }],
    [
      'too many ids',
      { v: 1, from: 'a', type: 'watch', ids: Array.from({ length: 10_001 }, (_, i) => i + 1) },
    ],
    ['a negative due time', { v: 1, from: 'a', type: 'watch', ids: [1], due: [[1, -1]] }],
    ['a watch period of zero', { v: 1, from: 'a', type: 'watch', ids: [1], within: [[1, 0]] }],
    [
      'a watch period that is not a pair',
      { v: 1, from: 'a', type: 'watch', ids: [1], within: [1, 500] },
    ],
    ['an unknown mode', { v: 1, from: 'a', type: 'mode', mode: 'carrier-pigeon' }],
    [
      'a bad state',
      { v: 1, from: 'a', type: 'state', mode: 'sse', state: { state: 'open', transport: 'ws' } },
    ],
    [
      'an endless event id',
      { v: 1, from: 'a', type: 'job', job: jobStub(1, 'pending', 1), lastEventId: 'x'.repeat(300) },
    ],
    ['a bad error', { v: 1, from: 'a', type: 'error', ids: [1], error: { code: 5 } }],
  ])('should refuse %s with a reason, never anything else', (_, data) => {
    expect(() => parseMessage(data)).toThrow(Error);
  });
});

describe('wire errors and states', () => {
  it('should give back the class a listener in this tab would see', () => {
    const sse = fromWireError(toWireError(new SSEError('stream refused', 429)));
    expect(sse).toBeInstanceOf(SSEError);
    expect(sse).toMatchObject({ code: 'SSE_ERROR', status: 429, message: 'stream refused' });
    const http = fromWireError(structuredClone(toWireError(new HttpError(0, 'no answer'))));
    expect(http).toBeInstanceOf(HttpError);
    expect(http.code).toBe('NETWORK_ERROR');
    const parse = fromWireError(toWireError(new MessageParseError('{oops')));
    expect(parse).toMatchObject({ code: 'MESSAGE_PARSE', line: '{oops' });
    // A code this version does not know is still an error a listener can handle.
    expect(fromWireError({ code: 'FROM_THE_FUTURE', message: 'x' }).code).toBe('SSE_ERROR');
  });

  it('should carry every transport state across', () => {
    const error = new SSEError('x');
    for (const state of [
      { state: 'connecting', transport: 'sse', attempt: 1, error },
      { state: 'open', transport: 'poll' },
      { state: 'closed', error },
      { state: 'closed' },
    ] as const) {
      expect(fromWireState(structuredClone(toWireState(state)))).toEqual(state);
    }
  });
});
