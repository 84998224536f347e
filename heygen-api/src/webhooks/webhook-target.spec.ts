import { afterEach, describe, expect, it, vi } from 'vitest';
import { startDnsServer } from '../../test/support/dns-server.js';
import { PublicResolver } from './public-address.js';
import { checkWebhookTarget, RESOLVE_TIMEOUT_MS } from './webhook-target.js';

/** The test's nameserver: public and private answers, and names it never answers. */
async function startZone() {
  return startDnsServer({
    'public.test': ['93.184.215.14', '2606:4700::1'],
    'private.test': ['10.1.2.3'],
    'metadata.test': ['169.254.169.254'],
    'mapped.test': ['::ffff:127.0.0.1'],
    'nat64.test': ['64:ff9b::a01:203'],
    'mixed.test': ['93.184.215.14', '192.168.1.1'],
    'mixed6.test': ['93.184.215.14', 'fd00::1'],
    'silent.test': 'silent',
    'silent2.test': 'silent',
    'silent3.test': 'silent',
  });
}

/** A resolver asking the test's nameserver, giving up on a silent one within about 200 ms. */
const resolverOf = (server: string, maxInFlight = 256) =>
  new PublicResolver({ servers: [server], timeoutMs: 100, tries: 1, maxInFlight });

describe(checkWebhookTarget.name, () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it.each([false, true])(
    'should refuse a host that does not resolve, with WEBHOOK_ALLOW_PRIVATE=%s',
    async (allowPrivate) => {
      const dns = await startZone();
      await expect(
        checkWebhookTarget(
          { webhook: 'http://no-such-host.invalid/hook' },
          allowPrivate,
          resolverOf(dns.server),
        ),
      ).rejects.toMatchObject({ code: 'INVALID_WEBHOOK_URL' });
    },
  );

  it('should measure the URL as it is stored and sent, percent-encoded (review of 2026-12-01)', async () => {
    const resolver = resolverOf((await startZone()).server);
    // 2,025 characters as written, 12,025 once encoded.
    const body = { webhook: `http://127.0.0.1:1/ok?${'é'.repeat(2000)}` };
    await expect(checkWebhookTarget(body, true, resolver)).rejects.toMatchObject({
      code: 'INVALID_BODY',
    });
    const fits = { webhook: `http://127.0.0.1:1/ok?${'é'.repeat(300)}` };
    await expect(checkWebhookTarget(fits, true, resolver)).resolves.toMatchObject({
      url: `http://127.0.0.1:1/ok?${'%C3%A9'.repeat(300)}`,
    });
  });

  it('should take a private address only with WEBHOOK_ALLOW_PRIVATE', async () => {
    const resolver = resolverOf((await startZone()).server);
    const body = { webhook: 'http://localhost:1/hook' };
    await expect(checkWebhookTarget(body, false, resolver)).rejects.toMatchObject({
      code: 'WEBHOOK_URL_PRIVATE',
    });
    await expect(checkWebhookTarget(body, true, resolver)).resolves.toMatchObject({
      url: 'http://localhost:1/hook',
    });
  });

  it('should take a host the nameserver answers with public addresses only', async () => {
    const dns = await startZone();
    await expect(
      checkWebhookTarget({ webhook: 'https://public.test/hook' }, false, resolverOf(dns.server)),
    ).resolves.toMatchObject({ url: 'https://public.test/hook' });
    expect(dns.queries).toEqual(['public.test A', 'public.test AAAA']);
  });

  it.each([
    'private.test',
    'metadata.test',
    'mapped.test',
    'nat64.test',
    'mixed.test',
    'mixed6.test',
  ])('should refuse %s, which the nameserver answers with a non-public address', async (host) => {
    const dns = await startZone();
    await expect(
      checkWebhookTarget({ webhook: `https://${host}/hook` }, false, resolverOf(dns.server)),
    ).rejects.toMatchObject({ code: 'WEBHOOK_URL_PRIVATE' });
  });

  it('should answer INVALID_WEBHOOK_URL when the nameserver never answers (c-ares gives up)', async () => {
    const dns = await startZone();
    await expect(
      checkWebhookTarget({ webhook: 'https://silent.test/hook' }, false, resolverOf(dns.server)),
    ).rejects.toMatchObject({
      code: 'INVALID_WEBHOOK_URL',
      message: 'webhook host silent.test does not resolve',
    });
  });

  it('should stop waiting after RESOLVE_TIMEOUT_MS, however long c-ares would wait', async () => {
    const dns = await startZone();
    // c-ares would wait about 2 s of real time; the create's own bound is a timer of ours.
    const resolver = new PublicResolver({ servers: [dns.server], timeoutMs: 1000, tries: 1 });
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const checked = checkWebhookTarget({ webhook: 'https://silent.test/hook' }, false, resolver);
    const outcome = expect(checked).rejects.toMatchObject({ code: 'INVALID_WEBHOOK_URL' });
    await vi.advanceTimersByTimeAsync(RESOLVE_TIMEOUT_MS - 1);
    let settled = false;
    void checked.catch(() => (settled = true));
    await Promise.resolve();
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await outcome;
  });

  it('should answer 429 RATE_LIMITED past the lookups one instance makes at once', async () => {
    const dns = await startZone();
    const resolver = resolverOf(dns.server, 2);
    const hanging = ['silent.test', 'silent2.test'].map((host) =>
      checkWebhookTarget({ webhook: `https://${host}/hook` }, false, resolver).catch(() => {}),
    );

    await expect(
      checkWebhookTarget({ webhook: 'https://public.test/hook' }, false, resolver),
    ).rejects.toMatchObject({ code: 'RATE_LIMITED', retryAfterSeconds: RESOLVE_TIMEOUT_MS / 1000 });

    await Promise.all(hanging);
    await expect(
      checkWebhookTarget({ webhook: 'https://public.test/hook' }, false, resolver),
    ).resolves.toMatchObject({ url: 'https://public.test/hook' });
  });
});
