import { createServer } from 'node:http';
import { type AddressInfo } from 'node:net';
import { type LookupAddress, type LookupOptions } from 'node:dns';
import { describe, expect, it, onTestFinished } from 'vitest';
import { startDnsServer } from '../../test/support/dns-server.js';
import { PublicResolver } from './public-address.js';
import { publicOnlyLookup, WebhookSender } from './webhook-sender.js';

/** A real receiver on loopback that counts what reaches it. */
async function startReceiver() {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(req.url ?? '');
    res.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { port: (server.address() as AddressInfo).port, hits };
}

function newTestSender(...args: ConstructorParameters<typeof WebhookSender>) {
  const sut = new WebhookSender(...args);
  onTestFinished(() => sut.close());
  return sut;
}

describe(WebhookSender.name, () => {
  it('should refuse at connect time a name that resolves to loopback (DNS rebinding)', async () => {
    const { port, hits } = await startReceiver();
    const sut = newTestSender();
    const outcome = await sut.send(`http://localhost:${port}/hook`, {}, '{}', {
      timeoutMs: 1000,
      allowPrivate: false,
    });
    expect(outcome).toMatchObject({ error: 'address not allowed' });
    expect(outcome.statusCode).toBeUndefined();
    expect(hits).toEqual([]);
  });

  it('should refuse a private IP literal without connecting', async () => {
    const { port, hits } = await startReceiver();
    const outcome = await newTestSender().send(`http://127.0.0.1:${port}/hook`, {}, '{}', {
      timeoutMs: 1000,
      allowPrivate: false,
    });
    expect(outcome).toMatchObject({ error: 'address not allowed' });
    expect(hits).toEqual([]);
  });

  it('should deliver to loopback when private addresses are allowed', async () => {
    const { port, hits } = await startReceiver();
    const outcome = await newTestSender().send(`http://localhost:${port}/hook`, {}, '{}', {
      timeoutMs: 1000,
      allowPrivate: true,
    });
    expect(outcome).toMatchObject({ statusCode: 200 });
    expect(hits).toEqual(['/hook']);
  });

  it('should count a 2xx whose body trickles past the timeout as a success (review of 2026-12-01)', async () => {
    const server = createServer((_req, res) => {
      res.writeHead(200);
      const drip = setInterval(() => res.write('.'), 50);
      res.on('close', () => clearInterval(drip));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    });
    const { port } = server.address() as AddressInfo;

    const outcome = await newTestSender().send(`http://127.0.0.1:${port}/hook`, {}, '{}', {
      timeoutMs: 300,
      allowPrivate: true,
    });

    expect(outcome).toMatchObject({ statusCode: 200 });
    expect(outcome.error).toBeUndefined();
  });

  it('should report a refused connection', async () => {
    const { port } = await startReceiver();
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const free = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    expect(free).not.toBe(port);
    const outcome = await newTestSender().send(`http://127.0.0.1:${free}/`, {}, '{}', {
      timeoutMs: 1000,
      allowPrivate: true,
    });
    expect(outcome).toMatchObject({ error: 'connection refused' });
  });

  it('should close a connection left idle, though the receiver never does (review of 2026-12-02)', async () => {
    // A receiver that keeps every connection open for good, and says nothing of it (no
    // `Keep-Alive: timeout=`): each host:port it is reached at held a socket of this process.
    const server = createServer((_req, res) => res.end('ok'));
    server.keepAliveTimeout = 0;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    });
    const { port } = server.address() as AddressInfo;
    const open = () =>
      new Promise<number>((resolve, reject) =>
        server.getConnections((error, count) => (error ? reject(error) : resolve(count))),
      );

    const sut = newTestSender({ idleSocketMs: 200 });
    const outcome = await sut.send(`http://127.0.0.1:${port}/hook`, {}, '{}', {
      timeoutMs: 1000,
      allowPrivate: true,
    });
    expect(outcome).toMatchObject({ statusCode: 200 });
    expect(await open()).toBe(1);

    await expect.poll(open, { timeout: 2000, interval: 50 }).toBe(0);
  });

  it('should wait for an answer slower than the idle time of a connection', async () => {
    const server = createServer((_req, res) => setTimeout(() => res.end('ok'), 600));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    });
    const { port } = server.address() as AddressInfo;

    const sut = newTestSender({ idleSocketMs: 100 });
    for (let attempt = 1; attempt <= 2; attempt++) {
      // The second reuses the connection the first left in the pool.
      const outcome = await sut.send(`http://127.0.0.1:${port}/hook`, {}, '{}', {
        timeoutMs: 2000,
        allowPrivate: true,
      });
      expect(outcome).toMatchObject({ statusCode: 200 });
    }
  });

  it('should refuse at connect time a name the nameserver now answers with a private address', async () => {
    const { port, hits } = await startReceiver();
    const dns = await startDnsServer({ 'rebound.test': ['93.184.215.14', '127.0.0.1'] });
    const sut = newTestSender({ resolver: resolverOf(dns.server) });
    const outcome = await sut.send(`http://rebound.test:${port}/hook`, {}, '{}', {
      timeoutMs: 1000,
      allowPrivate: false,
    });
    expect(outcome).toMatchObject({ error: 'address not allowed' });
    expect(hits).toEqual([]);
    expect(dns.queries).toContain('rebound.test A');
  });

  it('should record a host whose nameserver never answers as not found', async () => {
    const dns = await startDnsServer({ 'silent.test': 'silent' });
    const sut = newTestSender({ resolver: resolverOf(dns.server) });
    const outcome = await sut.send('http://silent.test/hook', {}, '{}', {
      timeoutMs: 5000,
      allowPrivate: false,
    });
    expect(outcome).toMatchObject({ error: 'host not found' });
  });
});

/** A resolver asking the test's nameserver, giving up on a silent one within about 200 ms. */
const resolverOf = (server: string) =>
  new PublicResolver({ servers: [server], timeoutMs: 100, tries: 1 });

describe(publicOnlyLookup.name, () => {
  /** The lookup's answer, as Node's net takes it: one address, or every one with `all`. */
  const lookUp = (host: string, options: LookupOptions, server: string) =>
    new Promise<{ error?: NodeJS.ErrnoException; result?: unknown }>((resolve) => {
      publicOnlyLookup(resolverOf(server))(host, options, (error, address, family) => {
        resolve(error ? { error } : { result: options.all ? address : { address, family } });
      });
    });

  it("should follow Node's LookupFunction: one address, every one with all, the family asked", async () => {
    const { server } = await startDnsServer({ 'both.test': ['2606:4700::1', '93.184.215.14'] });
    const both: LookupAddress[] = [
      { address: '93.184.215.14', family: 4 },
      { address: '2606:4700::1', family: 6 },
    ];
    // What autoSelectFamily asks (net.js): every address, hints ADDRCONFIG.
    expect(await lookUp('both.test', { all: true, family: 0, hints: 1024 }, server)).toEqual({
      result: both,
    });
    expect(await lookUp('both.test', {}, server)).toEqual({ result: both[0] });
    expect(await lookUp('both.test', { family: 6 }, server)).toEqual({ result: both[1] });
    expect(await lookUp('both.test', { family: 'IPv6', all: true }, server)).toEqual({
      result: [both[1]],
    });
    expect(await lookUp('both.test', { family: 4, all: true }, server)).toEqual({
      result: [both[0]],
    });
  });

  it('should refuse a private address among public ones, and a name with none', async () => {
    const { server } = await startDnsServer({
      'mixed.test': ['93.184.215.14', 'fd00::1'],
      'v4.test': ['93.184.215.14'],
    });
    expect(await lookUp('mixed.test', { all: true }, server)).toMatchObject({
      error: { code: 'EADDRNOTALLOWED' },
    });
    // The public family alone passes: only what is returned is reached.
    expect(await lookUp('mixed.test', { family: 4 }, server)).toEqual({
      result: { address: '93.184.215.14', family: 4 },
    });
    expect(await lookUp('v4.test', { family: 6 }, server)).toMatchObject({
      error: { code: 'ENOTFOUND' },
    });
    expect(await lookUp('nowhere.test', { all: true }, server)).toMatchObject({
      error: { code: 'ENOTFOUND' },
    });
  });
});
