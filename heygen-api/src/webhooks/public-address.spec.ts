import { pbkdf2 } from 'node:crypto';
import { lookup as systemLookup } from 'node:dns/promises';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { startDnsServer } from '../../test/support/dns-server.js';
import {
  isPublicAddress,
  lookupAll,
  LookupsBusy,
  PublicResolver,
  type PublicResolverOptions,
} from './public-address.js';

const pbkdf2Async = promisify(pbkdf2);

describe(isPublicAddress.name, () => {
  it.each([
    '127.0.0.1',
    '127.255.0.9',
    '10.0.0.1',
    '172.16.5.4',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254',
    '0.0.0.0',
    '100.64.0.1',
    '224.0.0.1',
    '255.255.255.255',
    '::',
    '::1',
    'fc00::1',
    'fd12:3456::1',
    'fe80::1',
    '::ffff:127.0.0.1',
    '::ffff:10.0.0.1',
    '64:ff9b::a00:1',
    '2001:db8::1',
    '3fff::1', // documentation too, since RFC 9637
    // Outside global unicast (review of 2026-11-30): IPv4-compatible, IPv4-translated, SRv6.
    '::127.0.0.1',
    '::ffff:0:127.0.0.1',
    '5f00::1',
  ])('should refuse %s', (address) => {
    expect(isPublicAddress(address)).toBe(false);
  });

  it.each([
    '8.8.8.8',
    '1.1.1.1',
    '172.32.0.1',
    '192.169.0.1',
    '::ffff:8.8.8.8',
    '2606:4700:4700::1111',
  ])('should allow %s', (address) => {
    expect(isPublicAddress(address)).toBe(true);
  });

  it('should refuse what is not an IP address', () => {
    expect(isPublicAddress('example.com')).toBe(false);
  });
});

describe(lookupAll.name, () => {
  it('should take IP literals as they are, IPv6 without brackets', async () => {
    expect(await lookupAll('10.0.0.1')).toEqual(['10.0.0.1']);
    expect(await lookupAll('[::1]')).toEqual(['::1']);
  });

  it('should resolve a name to every address, from /etc/hosts too', async () => {
    expect(await lookupAll('localhost')).toContain('127.0.0.1');
  });
});

describe(PublicResolver.name, () => {
  /** A resolver asking the test's nameserver only, giving up on a silent one within about 200 ms. */
  const resolverOf = (server: string, options: PublicResolverOptions = {}) =>
    new PublicResolver({ servers: [server], timeoutMs: 100, tries: 1, ...options });

  it('should ask the nameserver for both families and give every address, IPv4 first', async () => {
    const dns = await startDnsServer({ 'both.test': ['2606:4700::1', '93.184.215.14'] });
    const sut = resolverOf(dns.server);

    expect(await sut.resolveAll('both.test')).toEqual(['93.184.215.14', '2606:4700::1']);
    expect(await sut.addresses('both.test', 0)).toEqual([
      { address: '93.184.215.14', family: 4 },
      { address: '2606:4700::1', family: 6 },
    ]);
    expect(await sut.addresses('both.test', 6)).toEqual([{ address: '2606:4700::1', family: 6 }]);
    expect(dns.queries).toEqual([
      'both.test A',
      'both.test AAAA',
      'both.test A',
      'both.test AAAA',
      'both.test AAAA',
    ]);
  });

  it('should give the family a name has when it has one only', async () => {
    const dns = await startDnsServer({ 'v4.test': ['93.184.215.14'] });
    expect(await resolverOf(dns.server).resolveAll('v4.test')).toEqual(['93.184.215.14']);
  });

  it('should take IP literals as they are, without asking', async () => {
    const dns = await startDnsServer({});
    const sut = resolverOf(dns.server);
    expect(await sut.resolveAll('10.0.0.1')).toEqual(['10.0.0.1']);
    expect(await sut.resolveAll('[::1]')).toEqual(['::1']);
    expect(dns.queries).toEqual([]);
  });

  it('should answer localhost and the names under it with loopback, without asking (RFC 6761)', async () => {
    const dns = await startDnsServer({});
    const sut = resolverOf(dns.server);
    expect(await sut.resolveAll('localhost')).toEqual(['127.0.0.1', '::1']);
    expect(await sut.resolveAll('api.localhost.')).toEqual(['127.0.0.1', '::1']);
    expect(await sut.addresses('localhost', 4)).toEqual([{ address: '127.0.0.1', family: 4 }]);
    expect(dns.queries).toEqual([]);
  });

  it('should throw ENOTFOUND for a name that does not exist, or has no address', async () => {
    const dns = await startDnsServer({ 'empty.test': [] });
    const sut = resolverOf(dns.server);
    await expect(sut.resolveAll('nowhere.test')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    await expect(sut.resolveAll('empty.test')).rejects.toMatchObject({ code: 'ENOTFOUND' });
  });

  it('should give up on a nameserver that never answers (ETIMEOUT)', async () => {
    const dns = await startDnsServer({ 'silent.test': 'silent' });
    await expect(resolverOf(dns.server).resolveAll('silent.test')).rejects.toMatchObject({
      code: 'ETIMEOUT',
    });
    expect(dns.queries).toEqual(['silent.test A', 'silent.test AAAA']);
  });

  it('should refuse lookups past maxInFlight at once, and take them again once those settle', async () => {
    const dns = await startDnsServer({ 'silent.test': 'silent', 'v4.test': ['93.184.215.14'] });
    const sut = resolverOf(dns.server, { maxInFlight: 2 });
    const hanging = [sut.resolveAll('silent.test'), sut.resolveAll('silent.test')];
    const settled = Promise.allSettled(hanging);

    await expect(sut.resolveAll('v4.test')).rejects.toBeInstanceOf(LookupsBusy);
    // An IP literal and a connection's lookup are not counted.
    expect(await sut.resolveAll('203.0.114.1')).toEqual(['203.0.114.1']);
    expect(await sut.addresses('v4.test', 0)).toEqual([{ address: '93.184.215.14', family: 4 }]);

    await settled;
    expect(await sut.resolveAll('v4.test')).toEqual(['93.184.215.14']);
  });

  it("should leave dns.lookup and libuv's threadpool free while lookups hang on a silent nameserver (review of 2026-12-02)", async () => {
    // getaddrinfo (dns.lookup) held a threadpool thread for as long as the nameserver kept
    // silent; libuv gives such lookups at most half of the pool (2 of 4), and every other
    // dns.lookup of the process queued behind them: 40 s behind eight, localhost included.
    const names = Array.from({ length: 32 }, (_, index) => `h${index}.silent.test`);
    const dns = await startDnsServer(Object.fromEntries(names.map((name) => [name, 'silent'])));
    const sut = resolverOf(dns.server, { timeoutMs: 1000, tries: 2 });
    let settled = 0;
    const hanging = names.map((name) => sut.resolveAll(name).finally(() => settled++));
    const done = Promise.allSettled(hanging);
    const [local] = await Promise.all([
      systemLookup('localhost'),
      pbkdf2Async('password', 'salt', 1, 32, 'sha256'),
      readFile(fileURLToPath(import.meta.url)),
    ]);

    expect(local.address).toMatch(/^(127\.0\.0\.1|::1)$/);
    expect(settled).toBe(0); // all of it happened while the 32 lookups hung
    expect(dns.queries.length).toBeGreaterThanOrEqual(32);
    const results = await done;
    expect(results.every((result) => result.status === 'rejected')).toBe(true);
  });
});
