import { connect } from 'node:net';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { newClientId } from './support/client-id.js';
import { describeEachAdapter } from './support/adapters.js';
import { RawConnection, parseResponses, rawRequest } from './support/raw-socket.js';
import { startServer, type TestServer } from './support/server.js';

const STREAM = { Accept: 'text/event-stream' };

/** A create whose one-byte body has not come yet: a request in flight. */
async function createInFlight(server: TestServer): Promise<RawConnection> {
  const connection = await RawConnection.open(server.url);
  const headers = { 'Content-Type': 'application/json', 'Content-Length': 2 };
  connection.write(rawRequest('POST', `/create?uuid=${newClientId()}`, headers, '{'));
  // The server has read it once it has answered a later request of the same client process.
  expect((await fetch(`${server.url}/health`)).status).toBe(200);
  return connection;
}

/** Resolves once the server no longer accepts connections: its stop has begun. */
async function stoppedAccepting(server: TestServer): Promise<void> {
  await vi.waitFor(
    async () => {
      const refused = await fetch(`${server.url}/health`).then(
        () => false,
        () => true,
      );
      if (!refused) throw new Error('still accepting');
    },
    { timeout: 5000, interval: 10 },
  );
}

describeEachAdapter(() => {
  describe('graceful stop (SIGTERM)', () => {
    it('should let a request in flight finish, then close its connection', async () => {
      const server = await startServer({ JOB_TIME: '60000' });
      const connection = await createInFlight(server);

      const stopping = server.close();
      await stoppedAccepting(server);
      connection.write('}');
      await connection.waitForClose();
      await stopping;

      const [answer] = parseResponses(connection.received);
      expect(answer?.status).toBe(201);
      expect(JSON.parse(answer!.body)).toMatchObject({ status: 'pending' });
      // Told, though it asked before the stop: a keep-alive client must not send its next request
      // on a connection about to close (review of 2026-12-01).
      expect(answer?.headers.connection).toBe('close');
    });

    it('should not wait for a connection that has sent nothing (a preconnect) (review of 2026-12-01)', async () => {
      const server = await startServer({ SHUTDOWN_GRACE_MS: '5000' });
      const connection = await RawConnection.open(server.url);
      expect((await fetch(`${server.url}/health`)).status).toBe(200); // it was accepted meanwhile

      const started = Date.now();
      await server.close();

      await connection.waitForClose();
      expect(Date.now() - started).toBeLessThan(2500);
    });

    it('should not wait for a CONNECT connection its client keeps half open (self-review of 2026-12-01)', async () => {
      const server = await startServer({ SHUTDOWN_GRACE_MS: '60000' });
      const { hostname, port } = new URL(server.url);
      const socket = connect({ host: hostname, port: Number(port), allowHalfOpen: true });
      onTestFinished(() => void socket.destroy());
      socket.on('error', () => {});
      let received = '';
      socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
      const answered = new Promise<void>((resolve) => socket.once('end', () => resolve()));
      socket.write('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n');
      await answered;
      expect(received).toMatch(/^HTTP\/1\.1 404 /);

      // Half-closed by the server and left so, the socket held the stop for SHUTDOWN_GRACE_MS
      // (here past the test's own timeout).
      await server.close();
    });

    it('should refuse a stream opened while the server is stopping 503 SHUTTING_DOWN, with Retry-After', async () => {
      const server = await startServer({ SHUTDOWN_GRACE_MS: '5000' });
      // A stream request whose headers are not all in at the stop: its connection is not idle, so
      // the stop waits for it, and its request arrives once the server is stopping.
      const connection = await RawConnection.open(server.url);
      const request = rawRequest('GET', `/status?uuid=${newClientId()}`, STREAM);
      connection.write(request.slice(0, -2));
      expect((await fetch(`${server.url}/health`)).status).toBe(200); // it was read meanwhile

      const stopping = server.close();
      await stoppedAccepting(server);
      connection.write(request.slice(-2));
      await connection.waitForClose();
      await stopping;

      const [answer] = parseResponses(connection.received);
      expect(answer?.status).toBe(503);
      expect(answer?.headers['retry-after']).toBe('1');
      expect(answer?.headers['content-type']).toMatch(/^application\/json/);
      expect(JSON.parse(answer!.body)).toMatchObject({ statusCode: 503, code: 'SHUTTING_DOWN' });
    });

    it('should cut a request still unfinished once SHUTDOWN_GRACE_MS has passed', async () => {
      const server = await startServer({ JOB_TIME: '60000', SHUTDOWN_GRACE_MS: '200' });
      const connection = await createInFlight(server);

      await server.close();

      await connection.waitForClose();
      expect(connection.received).toBe('');
    });
  });
});
