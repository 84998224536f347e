import { describe, expect, it } from 'vitest';
import { formatRetry, formatSse } from './sse-format.js';

describe(formatSse.name, () => {
  it('should write id, event and one data line, ended by a blank line', () => {
    expect(formatSse({ id: '7', event: 'job', data: { id: 1 } })).toBe(
      'id: 7\nevent: job\ndata: {"id":1}\n\n',
    );
  });

  it('should omit id when the event has none', () => {
    expect(formatSse({ event: 'heartbeat', data: {} })).toBe('event: heartbeat\ndata: {}\n\n');
  });

  it('should keep line breaks in data from ending the event', () => {
    const text = formatSse({ event: 'job', data: { message: 'a\n\nid: 9\r\nevent: x' } });
    expect(text.split('\n\n')).toHaveLength(2);
    expect(text).not.toMatch(/\nid: 9/);
  });
});

describe(formatRetry.name, () => {
  it('should write the retry field', () => {
    expect(formatRetry(1500)).toBe('retry: 1500\n\n');
  });
});
