import { NODATA, NOTFOUND, type LookupAddress } from 'node:dns';
import { lookup, Resolver } from 'node:dns/promises';
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

/** A URL's hostname as an IP literal (IPv6 without its brackets), or undefined for a name. */
function literalOf(hostname: string): string | undefined {
  const host = hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
  return isIP(host) !== 0 ? host : undefined;
}

/**
 * Every address `hostname` resolves to as the system resolves it (`dns.lookup`: getaddrinfo,
 * /etc/hosts and nsswitch), or throws when it does not resolve. For WEBHOOK_ALLOW_PRIVATE only,
 * where localhost and names in /etc/hosts are what an operator aims at; getaddrinfo runs on
 * libuv's threadpool, which a name whose nameserver never answers holds (see PublicResolver).
 */
export async function lookupAll(hostname: string): Promise<string[]> {
  const literal = literalOf(hostname);
  if (literal !== undefined) return [literal];
  const found = await lookup(hostname, { all: true, verbatim: true });
  return found.map(({ address }) => address);
}

/** c-ares's wait for a nameserver's first answer; a second try waits twice that (c-ares 1.34). */
export const DNS_TIMEOUT_MS = 1000;
/** How many times c-ares asks each nameserver: about 4 s on one that never answers. */
export const DNS_TRIES = 2;
/** Create checks resolving at once on one instance; past them a create is refused at once. */
export const MAX_LOOKUPS_IN_FLIGHT = 256;

/** A name that says nothing of its addresses: no such name, or none of the family asked. */
const NO_ADDRESS = new Set<string | undefined>([NODATA, NOTFOUND]);

/** `localhost` and the names under it, which are loopback whatever DNS says (RFC 6761, 6.3). */
const LOCALHOST = /(^|\.)localhost\.?$/i;

/** Thrown when MAX_LOOKUPS_IN_FLIGHT create checks are resolving already. */
export class LookupsBusy extends Error {
  override name = 'LookupsBusy';
  readonly code = 'ELOOKUPSBUSY';
}

export interface PublicResolverOptions {
  /**
   * The nameservers asked (`ip` or `ip:port`, as `Resolver.setServers` takes them); those of
   * /etc/resolv.conf when not given. Tests give their own.
   */
  servers?: string[];
  timeoutMs?: number;
  tries?: number;
  maxInFlight?: number;
}

/**
 * Resolves the hosts of webhooks that must be public (issue 19, "Safety") with c-ares
 * (`dns.Resolver`): queries sent from the event loop, no thread held while a nameserver is silent.
 * `dns.lookup` (getaddrinfo) runs on libuv's threadpool, where it may hold at most half the
 * threads: two getaddrinfo calls waiting on a nameserver that never answers (10 s each with
 * glibc's defaults) made every other `dns.lookup` of the process wait behind them, another
 * client's webhooks, Redis's host, `localhost` itself (review of 2026-12-02: 40 s behind eight).
 * c-ares reads no /etc/hosts, nor nsswitch: `localhost` is answered here as RFC 6761 says, and
 * WEBHOOK_ALLOW_PRIVATE, where such names matter, keeps `dns.lookup` (lookupAll).
 */
export class PublicResolver {
  private readonly resolver: Resolver;
  private readonly maxInFlight: number;
  private inFlight = 0;

  constructor({
    servers,
    timeoutMs = DNS_TIMEOUT_MS,
    tries = DNS_TRIES,
    maxInFlight = MAX_LOOKUPS_IN_FLIGHT,
  }: PublicResolverOptions = {}) {
    this.resolver = new Resolver({ timeout: timeoutMs, tries });
    if (servers) this.resolver.setServers(servers);
    this.maxInFlight = maxInFlight;
  }

  /**
   * Every address `hostname` (a URL's hostname: IPv6 literals in brackets) resolves to, for a
   * create's check: at most `maxInFlight` at once (LookupsBusy past them), each held until c-ares
   * gives up, not until the caller stops waiting. A host with one private address among public
   * ones is refused whole by the caller: the connection may pick any of them.
   */
  async resolveAll(hostname: string): Promise<string[]> {
    const literal = literalOf(hostname);
    if (literal !== undefined) return [literal];
    if (this.inFlight >= this.maxInFlight) {
      throw new LookupsBusy(`${this.maxInFlight} webhook hosts are being resolved already`);
    }
    this.inFlight++;
    try {
      return (await this.addresses(hostname, 0)).map(({ address }) => address);
    } finally {
      this.inFlight--;
    }
  }

  /**
   * The IPv4 (`family` 4), IPv6 (6) or both (0) addresses of a name, IPv4 first (the first
   * decides which family a connection tries first: a host without an IPv6 route then loses no
   * attempt). A family that fails while the other answers is left out: every address returned is
   * checked, and no other is reached. Throws ENOTFOUND when the name has no address, or the
   * failure (ETIMEOUT, ESERVFAIL …) when no family answered. Not counted against `maxInFlight`:
   * connections are bounded by the attempt slots and the manual retries.
   */
  async addresses(hostname: string, family: 0 | 4 | 6): Promise<LookupAddress[]> {
    if (LOCALHOST.test(hostname)) {
      return [
        { address: '127.0.0.1', family: 4 },
        { address: '::1', family: 6 },
      ].filter((entry) => family === 0 || entry.family === family);
    }
    // Two queries, not `resolveAny`: ANY is answered minimally or not at all (RFC 8482).
    const asked = await Promise.allSettled([
      family === 6 ? [] : this.resolver.resolve4(hostname),
      family === 4 ? [] : this.resolver.resolve6(hostname),
    ]);
    const found: LookupAddress[] = [];
    let failure: Error | undefined;
    asked.forEach((result, index) => {
      if (result.status === 'fulfilled') {
        for (const address of result.value) found.push({ address, family: index === 0 ? 4 : 6 });
      } else {
        const error = result.reason as NodeJS.ErrnoException;
        if (!NO_ADDRESS.has(error.code)) failure ??= error;
      }
    });
    if (found.length > 0) return found;
    if (failure !== undefined) throw failure;
    throw Object.assign(new Error(`${hostname} has no address`), { code: NOTFOUND, hostname });
  }
}
