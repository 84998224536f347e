import { once } from 'node:events';
import { createServer, get, type IncomingMessage, type Server } from 'node:http';
import { describe, expect, it, onTestFinished } from 'vitest';
import { startBalancer, type Backend } from './balancer.js';

/** An HTTP server that answers with its name, and holds an event stream open when asked for one. */
async function backend(name: string): Promise<Backend & { server: Server }> {
  const server = createServer((request, response) => {
    if (request.headers.accept === 'text/event-stream') {
      response.writeHead(200, { 'Content-Type': 'text/event-stream' });
      response.write(`data: ${name}\n\n`);
      return;
    }
    response.end(name);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  onTestFinished(() => {
    server.closeAllConnections();
    server.close();
  });
  return { name, host: '127.0.0.1', port: (server.address() as { port: number }).port, server };
}

/** A request on a connection of its own (no keep-alive): the balancer picks an instance for it. */
function request(url: string, stream = false): Promise<IncomingMessage> {
  return new Promise((resolve, reject) =>
    get(
      `${url}/status?uuid=x`,
      { agent: false, headers: stream ? { accept: 'text/event-stream' } : {} },
      resolve,
    ).once('error', reject),
  );
}

async function body(url: string): Promise<string> {
  const response = await request(url);
  let text = '';
  for await (const chunk of response) text += String(chunk);
  return text;
}

describe(startBalancer.name, () => {
  it('should send each new connection to the next instance, and tell which one', async () => {
    const balancer = await startBalancer([await backend('api-1'), await backend('api-2')]);
    onTestFinished(() => balancer.close());
    const heard: string[] = [];
    balancer.onForward((line, stream, instance) => heard.push(`${instance} ${line} ${stream}`));

    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await body(balancer.url));
    expect(answers).toEqual(['api-1', 'api-2', 'api-1', 'api-2']);
    expect(heard[0]).toBe('api-1 GET /status?uuid=x HTTP/1.1 false');
  });

  it('should know which instance holds a stream, and end the stream when that instance goes', async () => {
    const first = await backend('api-1');
    const balancer = await startBalancer([first, await backend('api-2')]);
    onTestFinished(() => balancer.close());
    expect(balancer.openStreams()).toEqual([]);
    const opened = balancer.streamOpen(5000);

    const stream = await request(balancer.url, true);
    expect(await opened).toBe(true);
    expect(balancer.openStreams()).toEqual(['api-1']);
    expect(await balancer.streamOpen(0)).toBe(true);

    // The connection ends mid-response: the response is aborted, as a client of a dead server sees.
    const ended = new Promise((resolve) => stream.once('close', resolve));
    stream.on('error', () => {}).resume();
    first.server.closeAllConnections();
    await ended;
    await expect.poll(() => balancer.openStreams()).toEqual([]);
    expect(await balancer.streamOpen(10)).toBe(false);
  });

  it('should leave out a removed instance, skip one that refuses, and take one back', async () => {
    const first = await backend('api-1');
    const gone = await backend('api-2');
    const balancer = await startBalancer([first, gone, await backend('api-3')]);
    onTestFinished(() => balancer.close());

    balancer.remove('api-1');
    gone.server.close();
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push(await body(balancer.url));
    expect(answers).toEqual(['api-3', 'api-3', 'api-3']);

    balancer.add(first);
    const back = [];
    for (let i = 0; i < 3; i++) back.push(await body(balancer.url));
    expect(back).toContain('api-1');
  });
});
