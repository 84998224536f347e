import { createServer, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { installRequestLog } from './request-log.js';

/** A real server answering 204, with its request log's lines kept. */
async function loggedServer(trustProxy: boolean | number | string[]) {
  const lines: Array<{ req?: { remoteAddress: string } }> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as (typeof lines)[number]);
      done();
    },
  });
  const server: Server = createServer();
  installRequestLog(server, pino({ level: 'info' }, sink), trustProxy);
  server.on('request', (_req, res) => res.writeHead(204).end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const { port } = server.address() as AddressInfo;
  const loggedAddress = async (forwardedFor: string): Promise<string | undefined> => {
    const before = lines.length;
    await fetch(`http://127.0.0.1:${port}/`, { headers: { 'X-Forwarded-For': forwardedFor } });
    await vi.waitFor(() => expect(lines.length).toBeGreaterThan(before));
    return lines.at(-1)?.req?.remoteAddress;
  };
  return { loggedAddress };
}

describe(installRequestLog.name, () => {
  it.each([
    ['off', false, '198.51.100.7', '127.0.0.1'],
    ['a trusted address', ['127.0.0.1'], '198.51.100.7', '198.51.100.7'],
    ['one hop', 1, '203.0.113.9, 198.51.100.7', '198.51.100.7'],
    ['every hop', true, '203.0.113.9, 198.51.100.7', '203.0.113.9'],
  ])(
    'should log the client address TRUST_PROXY gives (%s), as the rate limits count it',
    async (_, trustProxy, forwardedFor, expected) => {
      const { loggedAddress } = await loggedServer(trustProxy);

      expect(await loggedAddress(forwardedFor)).toBe(expected);
    },
  );
});
