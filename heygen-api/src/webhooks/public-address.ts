import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/**
 * Addresses a webhook may never reach (issue 19, "Safety"): the IANA special-purpose ranges
 * (RFC 6890) that are not the public internet: loopback, private (RFC 1918, fc00::/7), link-local
 * (cloud metadata lives at 169.254.169.254), unspecified, shared (CGNAT), documentation,
 * benchmarking, multicast, reserved, and IPv6 forms that embed an IPv4 address.
 */
const BLOCKED = (() => {
  const list = new BlockList();
  const v4: [string, number][] = [
    ['0.0.0.0', 8],
    ['10.0.0.0', 8],
    ['100.64.0.0', 10],
    ['127.0.0.0', 8],
    ['169.254.0.0', 16],
    ['172.16.0.0', 12],
    ['192.0.0.0', 24],
    ['192.0.2.0', 24],
    ['192.88.99.0', 24],
    ['192.168.0.0', 16],
    ['198.18.0.0', 15],
    ['198.51.100.0', 24],
    ['203.0.113.0', 24],
    ['224.0.0.0', 4],
    ['240.0.0.0', 4],
  ];
  for (const [network, prefix] of v4) list.addSubnet(network, prefix, 'ipv4');
  const v6: [string, number][] = [
    ['::', 128],
    ['::1', 128],
    // IPv4-mapped addresses (::ffff:a.b.c.d) meet the IPv4 rules above: BlockList maps them. Not
    // these IPv4-translated ones (NAT64), refused whole.
    ['64:ff9b::', 96],
    ['64:ff9b:1::', 48],
    ['100::', 64],
    ['2001::', 23],
    ['2001:db8::', 32],
    // Documentation, since RFC 9637 (2024), beside 2001:db8::/32.
    ['3fff::', 20],
    ['2002::', 16],
    ['fc00::', 7],
    ['fe80::', 10],
    ['fec0::', 10],
    ['ff00::', 8],
  ];
  for (const [network, prefix] of v6) list.addSubnet(network, prefix, 'ipv6');
  return list;
})();

/**
 * Where a public IPv6 address can be: the global unicast block (2000::/3), or an IPv4-mapped
 * address (::ffff:a.b.c.d), which then meets the IPv4 rules. Anything else is reserved, local or
 * embeds IPv4 some other way (::a.b.c.d, ::ffff:0:a.b.c.d, SRv6's 5f00::/16): a list of what
 * to refuse would always miss the next such range.
 */
const PUBLIC_V6 = (() => {
  const list = new BlockList();
  list.addSubnet('2000::', 3, 'ipv6');
  list.addSubnet('::ffff:0:0', 96, 'ipv6');
  return list;
})();

/** Whether `address` (an IP literal) is on the public internet. Anything that is not an IP is not. */
export function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  if (family === 6 && !PUBLIC_V6.check(address, 'ipv6')) return false;
  return !BLOCKED.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * Every address `hostname` resolves to (a URL's hostname: IPv6 literals in brackets), or throws
 * when it does not resolve. A host with one private address among public ones is refused whole:
 * the connection may pick any of them.
 */
export async function resolveAll(hostname: string): Promise<string[]> {
  const host = hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
  if (isIP(host) !== 0) return [host];
  const found = await lookup(host, { all: true, verbatim: true });
  return found.map(({ address }) => address);
}
