import { describe, expect, it } from 'vitest';
import { SSEError } from '../errors/sse-error.js';
import { createParser, MAX_EVENT_SIZE } from './sse-parser.js';

const parseAll = (...chunks: string[]) => {
  const events: [string, string, string][] = [];
  const parse = createParser((type, data, id) => events.push([type, data, id]));
  chunks.forEach(parse);
  return events;
};

describe(createParser.name, () => {
  it('should dispatch named events with their id', () => {
    expect(parseAll('id: 3\nevent: job\ndata: {"a":1}\n\n')).toEqual([['job', '{"a":1}', '3']]);
  });

  it('should treat a CR LF split across chunks as one line break', () => {
    expect(parseAll('data: a\r', '\ndata: b\r\n\r\n')).toEqual([['message', 'a\nb', '']]);
  });

  it('should accept CR and LF line endings and lines cut anywhere', () => {
    expect(parseAll('ev', 'ent: x\rda', 'ta: 1\r\rdata:2\n', '\n')).toEqual([
      ['x', '1', ''],
      ['message', '2', ''],
    ]);
  });

  it('should refuse a line past 1 MiB, however it is cut, without holding it', () => {
    const parse = createParser(() => {});
    const chunk = 'x'.repeat(64 * 1024);
    parse('data: ');
    expect(() => {
      for (let i = 0; i < 17; i++) parse(chunk);
    }).toThrow(new SSEError('Line too long'));
  });

  it('should refuse an event past 1 MiB made of many short lines', () => {
    const parse = createParser(() => {});
    const line = `data: ${'x'.repeat(1000)}\n`;
    expect(() => parse(line.repeat(MAX_EVENT_SIZE / 1000 + 1))).toThrow(
      new SSEError('Event too large'),
    );
  });

  it('should take an event just under the limit', () => {
    const value = 'x'.repeat(MAX_EVENT_SIZE - 2);
    expect(parseAll(`data: ${value}\n\n`)).toEqual([['message', value, '']]);
  });

  it('should ignore comments, retry and events without data', () => {
    expect(parseAll(': ping\nretry: 100\n\nevent: heartbeat\n\n')).toEqual([]);
  });

  it('should keep the last event id for events without one', () => {
    expect(parseAll('id: 7\ndata: a\n\nevent: heartbeat\ndata: {}\n\n')).toEqual([
      ['message', 'a', '7'],
      ['heartbeat', '{}', '7'],
    ]);
  });

  it('should ignore an id containing NULL', () => {
    expect(parseAll('id: 1\ndata: a\n\nid: 2\0\ndata: b\n\n').map((e) => e[2])).toEqual(['1', '1']);
  });
});
