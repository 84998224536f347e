import { describe, expect, it } from 'vitest';
import { refusedWebhookMessage, webhookServerEnv } from './webhooks.js';

describe(webhookServerEnv.name, () => {
  it('should allow the loopback receiver and retry within a second, one secret for several', () => {
    expect(webhookServerEnv(1)).toEqual({
      WEBHOOK_ALLOW_PRIVATE: 'true',
      WEBHOOK_RETRY_SCHEDULE: '0,1000,2000,4000',
    });
    expect(webhookServerEnv(2).WEBHOOK_SECRET).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
  });
});

describe(refusedWebhookMessage.name, () => {
  it('should turn WEBHOOK_URL_PRIVATE into one line saying what to change, and nothing else', () => {
    expect(
      refusedWebhookMessage({ status: 400, serverCode: 'WEBHOOK_URL_PRIVATE' }, 'http://h:3000'),
    ).toBe(
      "--webhook: http://h:3000 refuses webhooks to the run's receiver on 127.0.0.1 (WEBHOOK_URL_PRIVATE): start that server with WEBHOOK_ALLOW_PRIVATE=true, or leave out --url",
    );
    expect(refusedWebhookMessage({ serverCode: 'INVALID_BODY' }, 'http://h:3000')).toBeUndefined();
    expect(refusedWebhookMessage(new TypeError('refused'), 'http://h:3000')).toBeUndefined();
  });
});
