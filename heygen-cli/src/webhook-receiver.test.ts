import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createLogger } from './logger.js';
import { WebhookReceiver } from './webhook-receiver.js';

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const FINISHED_AT = '2026-11-23T18:00:03.000Z';

/** Signs like heygen-api (Standard Webhooks v1): HMAC-SHA256 of `id.timestamp.body`. */
function signed(jobId: number, status: string, { secret = SECRET, eventId = '7' } = {}) {
  const body = JSON.stringify({
    type: `job.${status}`,
    timestamp: FINISHED_AT,
    data: { id: jobId, status, progress: 100, finishedAt: FINISHED_AT },
  });
  const timestamp = String(Math.floor(Date.now() / 1000));
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  const signature = createHmac('sha256', key).update(`${eventId}.${timestamp}.${body}`);
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'webhook-id': eventId,
      'webhook-timestamp': timestamp,
      'webhook-signature': `v1,${signature.digest('base64')}`,
    },
  };
}

async function newSut() {
  let logged = '';
  const log = createLogger({ stream: { write: (chunk) => (logged += chunk) }, env: {} });
  const sut = await WebhookReceiver.start({ log, failFirst: 1 });
  onTestFinished(() => sut.close());
  sut.secret = SECRET;
  const post = async (n: number, request: ReturnType<typeof signed>) =>
    (await fetch(sut.urlFor(n), { method: 'POST', ...request })).status;
  return { sut, post, logged: () => logged };
}

describe(WebhookReceiver.name, () => {
  it('should listen on loopback and give each job a URL of its own', async () => {
    const { sut } = await newSut();
    expect(sut.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(sut.urlFor(3)).toBe(`${sut.url}/jobs/3`);
  });

  it("should refuse job 1's first attempt with 500, accept its retry, and others at once", async () => {
    const { sut, post, logged } = await newSut();
    const waited = sut.waitFor([11, 12], 10_000);
    expect(await post(1, signed(11, 'completed', { eventId: '5' }))).toBe(500);
    expect(await post(2, signed(12, 'failed', { eventId: '6' }))).toBe(204);
    expect(sut.receipt(11)?.receivedAt).toBeUndefined();
    expect(await post(1, signed(11, 'completed', { eventId: '5' }))).toBe(204);
    await expect(waited).resolves.toBe(true);

    expect(sut.receipt(11)).toMatchObject({ eventId: '5', status: 'completed', attempts: 2 });
    expect(sut.receipt(12)).toMatchObject({ eventId: '6', status: 'failed', attempts: 1 });
    expect(sut.receipt(12)!.receivedAt).toBeGreaterThan(Date.parse(FINISHED_AT));
    expect(sut.totals()).toEqual({
      deliveries: 3,
      verified: 3,
      failedVerification: 0,
      retries: 1,
    });
    expect(logged()).toMatch(/\[heygen-cli\] webhook job 11 completed verified: answered 500/);
  });

  it('should answer 400 to a request that fails verification, and count it', async () => {
    const { sut, post, logged } = await newSut();
    const forged = signed(12, 'completed', {
      secret: `whsec_${randomBytes(32).toString('base64')}`,
    });
    expect(await post(2, forged)).toBe(400);
    const unsigned = signed(12, 'completed');
    const { 'webhook-signature': _signature, ...headers } = unsigned.headers;
    expect(await post(2, { ...unsigned, headers } as typeof unsigned)).toBe(400);

    expect(sut.receipt(12)).toBeUndefined();
    expect(sut.totals()).toMatchObject({ deliveries: 2, verified: 0, failedVerification: 2 });
    expect(logged()).toContain('failed verification: answered 400 reason=NO_MATCHING_SIGNATURE');
    expect(logged()).toContain('reason=MISSING_HEADER');
  });

  it('should answer 404 off its paths, and stop waiting when the time is up', async () => {
    const { sut } = await newSut();
    expect((await fetch(`${sut.url}/elsewhere`, { method: 'POST', body: '{}' })).status).toBe(404);
    expect((await fetch(sut.urlFor(1))).status).toBe(404);
    expect(sut.totals().deliveries).toBe(0);
    await expect(sut.waitFor([11], 0)).resolves.toBe(false);
    await expect(sut.waitFor([], 0)).resolves.toBe(true);
  });
});
