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
