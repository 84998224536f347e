import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { ServerStartError, spawnServer, trackConnections } from './server.js';

/** A throwaway server script, deleted when the test finishes. */
function script(source: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'heygen-launcher-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'main.mjs');
  writeFileSync(file, source);
  return file;
}

const LISTENING_SOURCE = `
import { createServer } from 'node:http';
const server = createServer((req, res) => res.end('up'));
server.listen(Number(process.env.PORT), process.env.HOST, () => {
  console.log('\\x1b[32mtest-server listening on http://127.0.0.1:' + server.address().port + '\\x1b[39m');
});
`;

const env = { PATH: process.env.PATH ?? '', PORT: '0', HOST: '127.0.0.1' };

describe(spawnServer.name, () => {
  it('should resolve once the server prints its URL, and stop it', async () => {
    const lines: string[] = [];
    const server = await spawnServer({
      entry: script(LISTENING_SOURCE),
      env,
      onLine: (line) => lines.push(line),
    });
    onTestFinished(() => server.stop('SIGKILL'));

    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
    expect(server.host).toBe('127.0.0.1');
    expect(await (await fetch(server.url)).text()).toBe('up');
    expect(lines).toEqual([`test-server listening on ${server.url}`]);
    await server.stop();
    await expect(fetch(server.url)).rejects.toThrow();
    await server.stop(); // a second call is harmless
  });

  it('should say the server exited, with its last lines', async () => {
    const entry = script(`console.error('no config'); process.exit(3);`);
    const start = spawnServer({ entry, env, name: 'the test server' });
    await expect(start).rejects.toThrow(ServerStartError);
    await expect(start).rejects.toThrow(
      'the test server would not start: it exited with code 3 (no config)',
    );
  });

  it('should name a taken port', async () => {
    const entry = script(`console.error('heygen-api: port already in use'); process.exit(1);`);
    await expect(spawnServer({ entry, env: { ...env, PORT: '4321' } })).rejects.toThrow(
      'heygen-api would not start: port 4321 is already in use',
    );
  });

  it('should give up after its timeout and kill the server', async () => {
    const entry = script(`console.log('starting'); setInterval(() => {}, 1000);`);
    await expect(spawnServer({ entry, env, timeoutMs: 300 })).rejects.toThrow(
      'heygen-api did not become ready within 300 ms (starting)',
    );
  });
});

describe(trackConnections.name, () => {
  it('should cut every open connection while the server keeps listening', async () => {
    const server = createServer((_req, res) => res.write('held open'));
    const { destroyConnections } = trackConnections(server);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    onTestFinished(() => void server.close());
    const { port } = server.address() as AddressInfo;

    const req = request({ host: '127.0.0.1', port, agent: false });
    req.end();
    const [res] = (await once(req, 'response')) as [NodeJS.ReadableStream];
    res.resume();
    // The client sees the body cut short: Node reports it as an `aborted` error, then closes.
    const aborted = once(res, 'error');
    destroyConnections();
    expect(await aborted).toEqual([expect.objectContaining({ message: 'aborted' })]);
    expect(server.listening).toBe(true);
  });
});
