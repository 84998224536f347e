import { describe, expect, it } from 'vitest';
import { isPublicAddress, resolveAll } from './public-address.js';

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

describe(resolveAll.name, () => {
  it('should take IP literals as they are, IPv6 without brackets', async () => {
    expect(await resolveAll('10.0.0.1')).toEqual(['10.0.0.1']);
    expect(await resolveAll('[::1]')).toEqual(['::1']);
  });

  it('should resolve a name to every address', async () => {
    expect(await resolveAll('localhost')).toContain('127.0.0.1');
  });
});
