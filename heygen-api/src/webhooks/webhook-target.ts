import { DomainError } from '../errors/domain-error.js';
import { isPublicAddress, lookupAll, LookupsBusy, type PublicResolver } from './public-address.js';
import {
  DEFAULT_WEBHOOK_EVENTS,
  normaliseEvents,
  type WebhookEventName,
} from './webhook-events.js';

/**
 * The longest a create waits for the webhook's host to resolve: a slow resolver must not hold the
 * request (and the answer is then a clear 400, not a timeout). c-ares gives up sooner on one
 * silent nameserver (about 4 s, DNS_TIMEOUT_MS and DNS_TRIES), later with several.
 */
export const RESOLVE_TIMEOUT_MS = 5000;

/** Where a job's changes are POSTed, and which ones: what a create body asked for. */
export interface WebhookTarget {
  url: string;
  events: ReadonlySet<WebhookEventName>;
}

/** The webhook fields of a create body, after the schema check (jobs/schemas.ts). */
export interface WebhookFields {
  webhook?: string;
  webhookEvents?: string[];
}

/** The longest webhook URL accepted: browsers' and CDNs' common limit, well within MAX_BODY_BYTES. */
export const MAX_WEBHOOK_URL_LENGTH = 2048;

/**
 * Checks a create body's webhook: an absolute http(s) URL without credentials whose host resolves
 * only to public addresses (unless `allowPrivate`). The address is checked again at every connect
 * (webhook-sender.ts); this check answers the client at once, with a clear code. The host is
 * resolved by `resolver` (c-ares), or by `dns.lookup` with `allowPrivate` (/etc/hosts matters).
 */
export async function checkWebhookTarget(
  { webhook, webhookEvents }: WebhookFields,
  allowPrivate: boolean,
  resolver: PublicResolver,
): Promise<WebhookTarget | undefined> {
  if (webhook === undefined) {
    if (webhookEvents !== undefined) {
      throw new DomainError('INVALID_BODY', 'webhookEvents needs a webhook');
    }
    return undefined;
  }
  const url = URL.canParse(webhook) ? new URL(webhook) : undefined;
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') {
    throw new DomainError(
      'INVALID_WEBHOOK_URL',
      'webhook must be an absolute http:// or https:// URL, such as https://example.com/hooks/heygen',
    );
  }
  // As stored and sent: percent-encoding makes a URL of 2,000 `é` 12,000 characters long.
  if (url.href.length > MAX_WEBHOOK_URL_LENGTH) {
    throw new DomainError(
      'INVALID_BODY',
      `webhook must be at most ${MAX_WEBHOOK_URL_LENGTH} characters, percent-encoded`,
    );
  }
  if (url.username !== '' || url.password !== '') {
    // Credentials in a URL end up in logs and delivery history: a header-less secret is the signature.
    throw new DomainError('INVALID_WEBHOOK_URL', 'webhook must not carry a user name or password');
  }
  // Resolved whatever WEBHOOK_ALLOW_PRIVATE says: it lifts the refusal of private addresses, and a
  // host that does not resolve is a mistake either way.
  const resolving = allowPrivate ? lookupAll(url.hostname) : resolver.resolveAll(url.hostname);
  const addresses = await withTimeout(resolving, RESOLVE_TIMEOUT_MS).catch((error: unknown) => {
    if (error instanceof LookupsBusy) {
      // Every slot is a lookup waiting on some nameserver: none frees before c-ares gives up.
      const seconds = Math.ceil(RESOLVE_TIMEOUT_MS / 1000);
      throw new DomainError(
        'RATE_LIMITED',
        `Too many webhook hosts being resolved: try again in ${seconds} s`,
        seconds,
      );
    }
    throw new DomainError('INVALID_WEBHOOK_URL', `webhook host ${url.hostname} does not resolve`);
  });
  if (!allowPrivate) {
    if (addresses.length === 0 || !addresses.every(isPublicAddress)) {
      throw new DomainError(
        'WEBHOOK_URL_PRIVATE',
        `webhook host ${url.hostname} resolves to a loopback, private, link-local or otherwise non-public address`,
      );
    }
  }
  return {
    url: url.href,
    events: new Set(webhookEvents ? normaliseEvents(webhookEvents) : DEFAULT_WEBHOOK_EVENTS),
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timeout')), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
