import { normalizeIp } from '@nestjs/throttler';

/**
 * The bits of an IPv6 address that name one customer: a /64 is the smallest block an ISP or a
 * cloud hands out (RFC 6177, one LAN), so its 2^64 addresses are one client's to pick from.
 */
export const IPV6_PREFIX = 64;

/**
 * What a per-address limit (the rate limits, MAX_ACTIVE_JOBS_PER_ADDRESS) counts an address as:
 * an IPv6 address by its /64 (`2001:db8:1:2::/64`, zone id dropped, any spelling), an IPv4-mapped
 * one (`::ffff:1.2.3.4`) as its IPv4 address, IPv4 as is, and anything else unchanged.
 * @nestjs/throttler's own normaliser, the one its guard's default tracker uses, with the prefix set
 * here rather than left to its default.
 */
export const addressKey = (ip: string): string => normalizeIp(ip, IPV6_PREFIX);

/** The tracker of the per-address throttlers: the request's `ip`, as TRUST_PROXY gives it. */
export const addressTracker = (req: Record<string, unknown>): string =>
  addressKey(req.ip as string);
