import { describe, expect, it } from 'vitest';
import { addressKey, addressTracker } from './address-key.js';

describe('addressKey', () => {
  it('should key an IPv6 address by its /64, however it is written', () => {
    const key = '2001:db8:1:2::/64';
    for (const address of [
      '2001:db8:1:2::1',
      '2001:db8:1:2:ffff:eeee:dddd:cccc',
      '2001:DB8:1:2:FFFF:EEEE:DDDD:CCCC',
      '2001:0db8:0001:0002:0000:0000:0000:0001',
      '2001:db8:1:2::',
    ]) {
      expect(addressKey(address)).toBe(key);
    }
    expect(addressKey('2001:db8:1:3::1')).toBe('2001:db8:1:3::/64');
    expect(addressKey('2001:db8::1')).toBe('2001:db8::/64');
  });

  it('should drop a zone id', () => {
    expect(addressKey('fe80::1%eth0')).toBe('fe80::/64');
    expect(addressKey('FE80::abcd:1%25')).toBe('fe80::/64');
  });

  it('should key an IPv4-mapped address as its IPv4 address, and IPv4 as is', () => {
    expect(addressKey('::ffff:198.51.100.7')).toBe('198.51.100.7');
    expect(addressKey('::FFFF:198.51.100.7')).toBe('198.51.100.7');
    expect(addressKey('::ffff:c633:6407')).toBe('198.51.100.7');
    expect(addressKey('0:0:0:0:0:ffff:198.51.100.7')).toBe('198.51.100.7');
    expect(addressKey('198.51.100.7')).toBe('198.51.100.7');
    expect(addressKey('127.0.0.1')).toBe('127.0.0.1');
  });

  it('should keep the loopback whole (its /64 is not a customer)', () => {
    expect(addressKey('::1')).toBe('::1');
    expect(addressKey('0:0:0:0:0:0:0:1')).toBe('::1');
  });

  it('should give malformed input back unchanged, never throwing', () => {
    for (const junk of [
      '',
      'not-an-address',
      '2001:db8::1::2',
      '2001:db8:1:2:3:4:5:6:7',
      '12345::1',
      '::ffff:198.51.100.256',
      '198.51.100',
      '%eth0',
    ]) {
      expect(addressKey(junk)).toBe(junk);
    }
  });

  it("should track a request by its ip's key", () => {
    expect(addressTracker({ ip: '2001:db8:1:2::9' })).toBe('2001:db8:1:2::/64');
    expect(addressTracker({ ip: '::ffff:10.0.0.1' })).toBe('10.0.0.1');
  });
});
