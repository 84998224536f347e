import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { SseConnection } from './sse-connection.js';
import { formatSse } from './sse-format.js';
import { type SseResponse } from './sse-response.js';

/** A response that keeps what is written and never drains, like a reader that stopped reading. */
class ResponseStub extends EventEmitter implements SseResponse {
  headersSent = false;
  destroyed = false;
  writableLength = 0;
  socket = null;
  status?: number;
  headers?: Record<string, string>;
  written = '';

  writeHead(status: number, headers: Record<string, string>): this {
    Object.assign(this, { status, headers, headersSent: true });
    return this;
  }

  write(chunk: string): boolean {
    this.written += chunk;
    this.writableLength += chunk.length;
    return false;
  }

  end(): this {
    this.emit('close');
    return this;
  }

  destroy(): this {
    this.destroyed = true;
    this.emit('close');
    return this;
  }
}

const connectedStub = { event: 'connected', data: { resumed: false } };
const frameStub = formatSse({ id: '1', event: 'job', data: { id: 1 } });

describe(SseConnection.name, () => {
  it('should write nothing before the stream head, so a heartbeat cannot send a bare head', () => {
    const res = new ResponseStub();
    const sut = new SseConnection(res, 1024);

    sut.send(frameStub);
    sut.open(50, [connectedStub]);

    expect(res.status).toBe(200);
    expect(res.written.startsWith('retry: 50')).toBe(true);
    expect(res.written).not.toContain(frameStub);
  });

  it('should send the stream head, the retry field and the opening burst', () => {
    const res = new ResponseStub();
    const sut = new SseConnection(res, 1024);

    sut.open(50, [connectedStub]);

    expect(res.status).toBe(200);
    expect(res.headers?.['Content-Type']).toBe('text/event-stream; charset=utf-8');
    expect(res.written).toBe(`retry: 50\n\n${formatSse(connectedStub)}`);
  });

  it('should drop a reader that falls more than the buffer limit behind the opening burst', () => {
    const res = new ResponseStub();
    const sut = new SseConnection(res, frameStub.length * 2);
    sut.open(50, [connectedStub]);

    sut.send(frameStub);
    sut.send(frameStub);
    expect(res.destroyed).toBe(false);
    sut.send(frameStub);

    expect(res.destroyed).toBe(true);
    expect(sut.isOpen).toBe(false);
  });

  it('should tally the events sent, and those left unread by a reader it cut', () => {
    const res = new ResponseStub();
    const tally = { events: 0, heartbeats: 0, dropped: 0, cut: 0 };
    const sut = new SseConnection(res, frameStub.length * 2, tally);
    sut.open(50, [connectedStub]);
    sut.beat(frameStub);
    sut.send(frameStub);
    expect(tally).toEqual({ events: 2, heartbeats: 1, dropped: 0, cut: 0 });
    sut.send(frameStub);
    expect(tally).toEqual({ events: 2, heartbeats: 1, dropped: 4, cut: 1 });
  });

  it('should end a stream politely, and cut a reader still behind when it ends (the stop)', () => {
    const reading = new ResponseStub();
    const tally = { events: 0, heartbeats: 0, dropped: 0, cut: 0 };
    const sut = new SseConnection(reading, 1024, tally);
    sut.open(50, [connectedStub]);
    reading.writableLength = 0; // read
    sut.end();
    expect(reading.destroyed).toBe(false);

    const behind = new ResponseStub();
    const late = new SseConnection(behind, 1024, tally);
    late.open(50, [connectedStub]);
    late.send(frameStub);
    late.end();
    expect(behind.destroyed).toBe(true);
    expect(tally).toMatchObject({ cut: 1, dropped: 2 });
  });

  it('should write nothing once the connection closed', () => {
    const res = new ResponseStub();
    const sut = new SseConnection(res, 1024);
    sut.open(50, []);
    const before = res.written;

    res.emit('close');
    sut.send(frameStub);

    expect(res.written).toBe(before);
  });
});
