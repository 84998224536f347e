import { createSocket } from 'node:dgram';
import { isIPv4, isIPv6 } from 'node:net';
import { onTestFinished } from 'vitest';

/** What the test nameserver does with a name: its addresses, or never a word. */
export type DnsZone = Record<string, string[] | 'silent'>;

export interface TestDnsServer {
  /** `127.0.0.1:port`, as `Resolver.setServers` takes it. */
  server: string;
  /** The queries received, `name type` (`A`, `AAAA`, or the type's number), in order. */
  queries: string[];
}

const A = 1;
const AAAA = 28;

/**
 * A real nameserver over UDP on a free loopback port, written by hand (RFC 1035, 4.1): answers a
 * name of `zone` with its IPv4 addresses to A and IPv6 ones to AAAA (none of the type: an empty
 * answer, NODATA), a name it does not know NXDOMAIN, and a `silent` name never. Closed when the
 * test finishes.
 */
export async function startDnsServer(zone: DnsZone): Promise<TestDnsServer> {
  const socket = createSocket('udp4');
  const queries: string[] = [];
  socket.on('message', (query, from) => {
    const question = parseQuestion(query);
    if (!question) return;
    const { name, type, end } = question;
    queries.push(`${name} ${type === A ? 'A' : type === AAAA ? 'AAAA' : type}`);
    const known = zone[name.toLowerCase()];
    if (known === 'silent') return;
    const rdata = (known ?? []).flatMap((address) => {
      if (type === A && isIPv4(address)) return [Buffer.from(address.split('.').map(Number))];
      if (type === AAAA && isIPv6(address)) return [ipv6Bytes(address)];
      return [];
    });
    const header = Buffer.alloc(12);
    query.copy(header, 0, 0, 2); // the id
    // QR, the query's RD, RA; NXDOMAIN for a name not in the zone.
    header.writeUInt16BE(0x8080 | (query.readUInt16BE(2) & 0x0100) | (known ? 0 : 3), 2);
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(rdata.length, 6);
    const answers = rdata.map((bytes) => {
      const record = Buffer.alloc(12);
      record.writeUInt16BE(0xc00c, 0); // the name: a pointer to the question's
      record.writeUInt16BE(type, 2);
      record.writeUInt16BE(1, 4); // IN
      record.writeUInt32BE(60, 6);
      record.writeUInt16BE(bytes.length, 10);
      return Buffer.concat([record, bytes]);
    });
    socket.send(
      Buffer.concat([header, query.subarray(12, end), ...answers]),
      from.port,
      from.address,
    );
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  onTestFinished(() => new Promise<void>((resolve) => socket.close(() => resolve())));
  return { server: `127.0.0.1:${socket.address().port}`, queries };
}

/** The question of a query: its name, its type and where it ends; undefined if malformed. */
function parseQuestion(query: Buffer): { name: string; type: number; end: number } | undefined {
  if (query.length < 12 || query.readUInt16BE(4) !== 1) return undefined;
  const labels: string[] = [];
  let at = 12;
  while (at < query.length && query[at] !== 0) {
    const length = query[at]!;
    if (length > 63) return undefined;
    labels.push(query.toString('latin1', at + 1, at + 1 + length));
    at += 1 + length;
  }
  if (at + 5 > query.length) return undefined;
  return { name: labels.join('.'), type: query.readUInt16BE(at + 1), end: at + 5 };
}

/** The 16 bytes of an IPv6 address, `::` and a dotted IPv4 tail (`::ffff:10.0.0.1`) included. */
function ipv6Bytes(address: string): Buffer {
  const groupsOf = (part: string) =>
    part === ''
      ? []
      : part.split(':').flatMap((group) => {
          if (!group.includes('.')) return [group];
          const [a = 0, b = 0, c = 0, d = 0] = group.split('.').map(Number);
          return [((a << 8) | b).toString(16), ((c << 8) | d).toString(16)];
        });
  const [head = '', tail] = address.split('::');
  const left = groupsOf(head);
  const right = tail === undefined ? [] : groupsOf(tail);
  const zeros = Array<string>(8 - left.length - right.length).fill('0');
  const bytes = Buffer.alloc(16);
  [...left, ...zeros, ...right].forEach((group, index) =>
    bytes.writeUInt16BE(parseInt(group, 16), index * 2),
  );
  return bytes;
}
