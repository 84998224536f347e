import { type LookupAddress } from 'node:dns';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { isPublicAddress, PublicResolver } from './public-address.js';

/** At most this much of a receiver's answer is read (issue 19): a 10 MB reply costs nothing. */
export const MAX_RESPONSE_BYTES = 64 * 1024;

/** What one POST to a receiver came to. */
export interface SendOutcome {
  /** The receiver's status, when it answered. */
  statusCode?: number;
  /** Why it did not answer. */
  error?: string;
  /** `Retry-After` as sent, when the receiver sent one. */
  retryAfter?: string;
  durationMs: number;
}

export interface SendOptions {
  timeoutMs: number;
  /** WEBHOOK_ALLOW_PRIVATE: connect to loopback and private addresses too (tests, local setups). */
  allowPrivate: boolean;
}

class AddressNotAllowed extends Error {
  override name = 'AddressNotAllowed';
  readonly code = 'EADDRNOTALLOWED';
}

/**
 * The connection's own name resolution refuses non-public addresses (issue 19, "Safety"): checked
 * again here, when the socket connects, a host that resolved to a public address at create and to
 * 127.0.0.1 now (DNS rebinding) is still refused. Node's LookupFunction: `options.family` 4 or 6
 * asks that family only, and Node asks `all: true` when it races address families
 * (autoSelectFamily), an array of `{ address, family }` then. On `resolver` (c-ares), not
 * `dns.lookup`: a silent nameserver holds no thread of libuv's pool (public-address.ts).
 */
export function publicOnlyLookup(resolver: PublicResolver): LookupFunction {
  return (hostname, options, callback) => {
    resolver.addresses(hostname, familyOf(options.family)).then(
      (all) => {
        if (all.length === 0 || !all.every((entry) => isPublicAddress(entry.address))) {
          return callback(
            new AddressNotAllowed(`${hostname} resolves to an address not allowed`),
            '',
            0,
          );
        }
        if (options.all) {
          (callback as unknown as (error: null, addresses: LookupAddress[]) => void)(null, all);
        } else callback(null, all[0]!.address, all[0]!.family);
      },
      (error: NodeJS.ErrnoException) => callback(error, '', 0),
    );
  };
}

function familyOf(family: number | string | undefined): 0 | 4 | 6 {
  if (family === 4 || family === 'IPv4') return 4;
  return family === 6 || family === 'IPv6' ? 6 : 0;
}

/** Connections to one receiving host at once; an attempt past them waits for one to be free. */
export const MAX_SOCKETS_PER_HOST = 64;
/**
 * How long a connection kept alive may wait for the next attempt to its host before it is closed
 * (less when the receiver's `Keep-Alive: timeout=` says so). Without it an idle connection stayed
 * open until the receiver closed it: one that never does held a socket of this process per
 * `host:port` it was reached at, for good (review of 2026-12-02). Below Node's 5 s default on the
 * receiving side, so that a connection is seldom reused just as the receiver closes it.
 */
export const IDLE_SOCKET_MS = 4000;

/**
 * POSTs a webhook with node:http, which follows no redirect (a 3xx is a failed attempt), reads at
 * most MAX_RESPONSE_BYTES of the answer and gives up after the timeout. Never rejects.
 */
export class WebhookSender {
  private readonly agents;

  constructor({
    idleSocketMs = IDLE_SOCKET_MS,
    resolver = new PublicResolver(),
  }: {
    idleSocketMs?: number;
    /** Resolves the hosts of the public-only agents; the private ones keep `dns.lookup`. */
    resolver?: PublicResolver;
  } = {}) {
    // `timeout` closes a socket idle in the pool; an attempt under way is bounded by its own timer.
    const options = { keepAlive: true, maxSockets: MAX_SOCKETS_PER_HOST, timeout: idleSocketMs };
    const lookup = publicOnlyLookup(resolver);
    this.agents = {
      'http:': new HttpAgent({ ...options, lookup }),
      'https:': new HttpsAgent({ ...options, lookup }),
      // WEBHOOK_ALLOW_PRIVATE: Node's `dns.lookup`, which reads /etc/hosts (localhost, local names).
      private: {
        'http:': new HttpAgent(options),
        'https:': new HttpsAgent(options),
      },
    };
  }

  send(
    target: string,
    headers: Record<string, string>,
    body: string,
    { timeoutMs, allowPrivate }: SendOptions,
  ): Promise<SendOutcome> {
    const started = performance.now();
    const url = new URL(target);
    const protocol = url.protocol === 'https:' ? 'https:' : 'http:';
    const durationMs = (): number => Math.round(performance.now() - started);
    // An IP literal is never looked up, so the connect-time check above never sees it.
    const literal = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    if (!allowPrivate && isIP(literal) !== 0 && !isPublicAddress(literal)) {
      return Promise.resolve({ error: 'address not allowed', durationMs: durationMs() });
    }
    return new Promise((resolve) => {
      let settled = false;
      const finish = (outcome: Omit<SendOutcome, 'durationMs'>): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve({ ...outcome, durationMs: durationMs() });
      };
      const send = protocol === 'https:' ? httpsRequest : httpRequest;
      const req = send(url, {
        method: 'POST',
        agent: allowPrivate ? this.agents.private[protocol] : this.agents[protocol],
        headers: {
          ...headers,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          'user-agent': 'heygen-webhooks/1',
        },
      });
      /** The receiver's answer, once its status came: what counts, however slow its body is. */
      let answered: Omit<SendOutcome, 'durationMs'> | undefined;
      const timer = setTimeout(() => {
        // A 2xx whose body trickles was a success (review of 2026-12-01: recorded as a timeout,
        // and sent again).
        finish(answered ?? { error: 'timeout' });
        req.destroy();
      }, timeoutMs);
      req.on('error', (error: NodeJS.ErrnoException) => finish({ error: describe(error) }));
      req.on('response', (res: IncomingMessage) => {
        const statusCode = res.statusCode ?? 0;
        const retryAfter = res.headers['retry-after'];
        const outcome = { statusCode, ...(retryAfter !== undefined && { retryAfter }) };
        answered = outcome;
        let read = 0;
        res.on('data', (chunk: Buffer) => {
          read += chunk.length;
          if (read < MAX_RESPONSE_BYTES) return;
          // Enough: the rest is never read, and the socket is not reused.
          finish(outcome);
          res.destroy();
        });
        res.on('end', () => finish(outcome));
        res.on('error', () => finish(outcome));
        res.on('close', () => finish(outcome));
      });
      req.end(body);
    });
  }

  close(): void {
    for (const agent of [
      this.agents['http:'],
      this.agents['https:'],
      this.agents.private['http:'],
      this.agents.private['https:'],
    ]) {
      agent.destroy();
    }
  }
}

function describe(error: NodeJS.ErrnoException): string {
  // c-ares's failures (ETIMEOUT, ESERVFAIL, even its own ECONNREFUSED) name the query that failed.
  if (error.syscall?.startsWith('query')) return 'host not found';
  switch (error.code ?? '') {
    case 'EADDRNOTALLOWED':
      return 'address not allowed';
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ECONNRESET':
      return 'connection reset';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host not found';
    default:
      return error.code || error.message;
  }
}
