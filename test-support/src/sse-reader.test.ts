import { once } from 'node:events';
import { createServer, type ServerResponse } from 'node:http';
import { type AddressInfo } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createFrameParser, type SseFrame } from './sse-frames.js';
import { openSse } from './sse-reader.js';

/** A real server whose one route is `handler`; closed when the test finishes. */
async function serve(handler: (res: ServerResponse) => void): Promise<string> {
  const server = createServer((_req, res) => handler(res));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  onTestFinished(() => {
    server.closeAllConnections();
    server.close();
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/status`;
}

describe(createFrameParser.name, () => {
  it('should read frames split anywhere, with any line ending, skipping comments', () => {
    const frames: SseFrame[] = [];
    const parser = createFrameParser((frame) => frames.push(frame));
    for (const chunk of [
      'retry: 10',
      '0\n\n: ping\r\nid: 7\revent: j',
      'ob\ndata: {"a"\n',
      'data: :1}\n\n',
    ]) {
      parser.feed(chunk);
    }
    expect(frames).toEqual([{ retry: 100 }, { id: '7', event: 'job', data: '{"a"\n:1}' }]);
  });
});

describe(openSse.name, () => {
  it('should hand over frames and named events in order, and the last event id', async () => {
    const url = await serve((res) => {
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      res.write('retry: 250\n\n');
      res.write('id: 1\nevent: connected\ndata: {"resumed":false}\n\n');
      res.write('event: heartbeat\ndata: {}\n\nid: 2\nevent: job\ndata: {"id":5}\n\n');
    });
    const stream = await openSse(url);

    expect(stream.status).toBe(200);
    expect(stream.headers['content-type']).toBe('text/event-stream');
    expect(await stream.next()).toEqual({ retry: 250 });
    expect(await stream.nextEvent('connected')).toEqual({
      id: '1',
      event: 'connected',
      data: { resumed: false },
    });
    expect(await stream.nextNonHeartbeat()).toEqual({ id: '2', event: 'job', data: { id: 5 } });
    expect(stream.lastEventId).toBe('2');
    await expect(stream.next(50)).rejects.toThrow('no frame within 50 ms');
  });

  it('should return the error body of a refused stream', async () => {
    const url = await serve((res) => {
      res.writeHead(429, { 'Content-Type': 'application/json' });
      res.end('{"code":"TOO_MANY_STREAMS"}');
    });
    const stream = await openSse(url);
    expect(stream.status).toBe(429);
    expect(await stream.json()).toEqual({ code: 'TOO_MANY_STREAMS' });
    await expect(stream.next()).rejects.toThrow('stream ended');
  });

  it('should end when the test drops the connection', async () => {
    const url = await serve((res) => {
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      res.write('event: connected\ndata: {}\n\n');
    });
    const stream = await openSse(url);
    await stream.nextEvent('connected');
    stream.destroy();
    await stream.ended;
    expect(stream.isClosed).toBe(true);
  });
});
