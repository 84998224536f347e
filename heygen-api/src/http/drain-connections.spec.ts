import { createServer } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { drainConnections, trackConnections } from './drain-connections.js';

/** A real server whose stop begins as its first connection is accepted, the loop then busy. */
function stopAtFirstConnection() {
  const server = createServer((_req, res) => res.end('ok'));
  const sockets = trackConnections(server);
  let drained: Promise<void> | undefined;
  server.once('connection', () => {
    setImmediate(() => {
      drained = drainConnections(server, sockets, 5000);
      // Closing streams, a GC pause: the request's bytes wait in the kernel meanwhile.
      const until = Date.now() + 30;
      while (Date.now() < until);
    });
  });
  return { server, drained: () => drained };
}

describe(drainConnections.name, () => {
  it('should answer a request that arrived as the stop began, the loop busy (review of 2026-12-01)', async () => {
    const { server, drained } = stopAtFirstConnection();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;

    const answer = await new Promise<string>((resolve) => {
      const client = connect(port, '127.0.0.1', () => {
        client.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      });
      let received = '';
      client.on('data', (chunk: Buffer) => (received += chunk.toString()));
      client.on('close', () => resolve(received));
      client.on('error', () => {});
    });

    expect(answer.split('\r\n')[0]).toBe('HTTP/1.1 200 OK');
    await drained();
  });

  it('should close a connection that sends nothing, without waiting for the grace', async () => {
    const server = createServer((_req, res) => res.end('ok'));
    const sockets = trackConnections(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const client = connect(port, '127.0.0.1');
    const closed = new Promise<void>((resolve) => client.on('close', () => resolve()));
    client.on('error', () => {});
    await new Promise((resolve) => client.once('connect', resolve));
    await new Promise((resolve) => setTimeout(resolve, 20)); // accepted by the server

    const started = Date.now();
    await drainConnections(server, sockets, 5000);

    await closed;
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
