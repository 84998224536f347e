import { describe, expect, it } from 'vitest';
import { checkWebhookTarget } from './webhook-target.js';

describe(checkWebhookTarget.name, () => {
  it.each([false, true])(
    'should refuse a host that does not resolve, with WEBHOOK_ALLOW_PRIVATE=%s',
    async (allowPrivate) => {
      await expect(
        checkWebhookTarget({ webhook: 'http://no-such-host.invalid/hook' }, allowPrivate),
      ).rejects.toMatchObject({ code: 'INVALID_WEBHOOK_URL' });
    },
  );

  it('should measure the URL as it is stored and sent, percent-encoded (review of 2026-12-01)', async () => {
    // 2,025 characters as written, 12,025 once encoded.
    const body = { webhook: `http://127.0.0.1:1/ok?${'é'.repeat(2000)}` };
    await expect(checkWebhookTarget(body, true)).rejects.toMatchObject({ code: 'INVALID_BODY' });
    const fits = { webhook: `http://127.0.0.1:1/ok?${'é'.repeat(300)}` };
    await expect(checkWebhookTarget(fits, true)).resolves.toMatchObject({
      url: `http://127.0.0.1:1/ok?${'%C3%A9'.repeat(300)}`,
    });
  });

  it('should take a private address only with WEBHOOK_ALLOW_PRIVATE', async () => {
    const body = { webhook: 'http://localhost:1/hook' };
    await expect(checkWebhookTarget(body, false)).rejects.toMatchObject({
      code: 'WEBHOOK_URL_PRIVATE',
    });
    await expect(checkWebhookTarget(body, true)).resolves.toMatchObject({
      url: 'http://localhost:1/hook',
    });
  });
});
