import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { HeyGenError, isHeyGenError } from './errors/heygen-error.js';
import { WebhookVerificationError } from './errors/webhook-verification-error.js';
import { verifyWebhook, type VerifyWebhookOptions, type WebhookHeaders } from './webhooks.js';

// heygen-api signs with the `standardwebhooks` package (issue 19); here it is the independent
// signer, and everything it signs goes through real WebCrypto: no mocks.

const secretStub = (): string => `whsec_${randomBytes(32).toString('base64')}`;
const payloadStub = { id: 7, status: 'completed', progress: 100, eventId: '42' };
const SENT_AT = new Date('2026-11-30T12:00:00Z');
/** The receiver's clock, `seconds` after the request was signed. */
const at = (seconds: number) => () => SENT_AT.getTime() + seconds * 1000;

interface SignedRequest {
  body: string;
  headers: Record<string, string>;
}

/** A request as heygen-api sends it: the body, and the three headers standardwebhooks signs. */
function signedRequestStub(
  secret: string,
  { body = JSON.stringify(payloadStub), id = 'evt_42', sentAt = SENT_AT } = {},
): SignedRequest {
  return {
    body,
    headers: {
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(sentAt.getTime() / 1000)),
      'webhook-signature': new Webhook(secret).sign(id, sentAt, body),
    },
  };
}

/** What `verifyWebhook` rejected with: a WebhookVerificationError's reason. */
async function rejection(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(error).toBeInstanceOf(WebhookVerificationError);
  return (error as WebhookVerificationError).reason;
}

describe(verifyWebhook.name, () => {
  const secret = secretStub();
  const request = signedRequestStub(secret);
  const verify = (
    headers: WebhookHeaders = request.headers,
    body: string | Uint8Array = request.body,
    options: VerifyWebhookOptions = { now: at(0) },
  ) => verifyWebhook(body, headers, secret, options);

  it('should return the payload of a request signed with the secret', async () => {
    await expect(verify()).resolves.toEqual(payloadStub);
  });

  it('should take the secret with or without its whsec_ prefix', async () => {
    const bare = secret.slice('whsec_'.length);
    await expect(
      verifyWebhook(request.body, request.headers, bare, { now: at(0) }),
    ).resolves.toEqual(payloadStub);
  });

  it('should read a Headers object and a plain object with names in any case', async () => {
    await expect(verify(new Headers(request.headers))).resolves.toEqual(payloadStub);
    const titleCase = Object.fromEntries(
      Object.entries(request.headers).map(([name, value]) => [
        name.replace(/(^|-)\w/g, (letter) => letter.toUpperCase()),
        value,
      ]),
    );
    expect(Object.keys(titleCase)).toContain('Webhook-Signature');
    await expect(verify(titleCase)).resolves.toEqual(payloadStub);
    const upperCase = Object.fromEntries(
      Object.entries(request.headers).map(([name, value]) => [name.toUpperCase(), value]),
    );
    await expect(verify(upperCase)).resolves.toEqual(payloadStub);
    // Node's req.headers: lower case, an array for a repeated header.
    await expect(
      verify({ ...request.headers, 'webhook-signature': [request.headers['webhook-signature']!] }),
    ).resolves.toEqual(payloadStub);
  });

  it('should take the body as bytes: a Uint8Array or a Buffer', async () => {
    await expect(verify(request.headers, new TextEncoder().encode(request.body))).resolves.toEqual(
      payloadStub,
    );
    await expect(verify(request.headers, Buffer.from(request.body))).resolves.toEqual(payloadStub);
  });

  it('should verify a body with characters outside ASCII, as text and as bytes', async () => {
    const unicode = signedRequestStub(secret, {
      body: JSON.stringify({ ...payloadStub, note: 'rendu terminé ✓ 🎬' }),
    });
    await expect(
      verifyWebhook(unicode.body, unicode.headers, secret, { now: at(0) }),
    ).resolves.toEqual({ ...payloadStub, note: 'rendu terminé ✓ 🎬' });
    await expect(
      verifyWebhook(Buffer.from(unicode.body), unicode.headers, secret, { now: at(0) }),
    ).resolves.toMatchObject({ note: 'rendu terminé ✓ 🎬' });
  });

  it('should accept any one matching signature of several (secret rotation)', async () => {
    const oldSecret = secretStub();
    const old = signedRequestStub(oldSecret).headers['webhook-signature'];
    const current = request.headers['webhook-signature'];
    for (const signatures of [`${old} ${current}`, `${current} ${old}`]) {
      const headers = { ...request.headers, 'webhook-signature': signatures };
      await expect(verify(headers)).resolves.toEqual(payloadStub);
      await expect(
        verifyWebhook(request.body, headers, oldSecret, { now: at(0) }),
      ).resolves.toEqual(payloadStub);
    }
    // Two headers, joined by Headers.get() as `a, b`.
    const twoHeaders = new Headers(request.headers);
    twoHeaders.set('webhook-signature', old!);
    twoHeaders.append('webhook-signature', current!);
    expect(twoHeaders.get('webhook-signature')).toBe(`${old}, ${current}`);
    await expect(verify(twoHeaders)).resolves.toEqual(payloadStub);
    // And from Node's req.headers as an array.
    await expect(
      verify({ ...request.headers, 'webhook-signature': [old!, current!] }),
    ).resolves.toEqual(payloadStub);
  });

  it('should skip signatures of other versions next to a matching v1', async () => {
    const headers = {
      ...request.headers,
      'webhook-signature': `v1a,${randomBytes(64).toString('base64')} ${request.headers['webhook-signature']}`,
    };
    await expect(verify(headers)).resolves.toEqual(payloadStub);
  });

  it('should reject a tampered body, a wrong secret, and a changed id or timestamp', async () => {
    expect(await rejection(verify(request.headers, request.body.replace('100', '99')))).toBe(
      'NO_MATCHING_SIGNATURE',
    );
    expect(await rejection(verify(request.headers, `${request.body} `))).toBe(
      'NO_MATCHING_SIGNATURE',
    );
    expect(
      await rejection(verifyWebhook(request.body, request.headers, secretStub(), { now: at(0) })),
    ).toBe('NO_MATCHING_SIGNATURE');
    expect(await rejection(verify({ ...request.headers, 'webhook-id': 'evt_43' }))).toBe(
      'NO_MATCHING_SIGNATURE',
    );
    const timestamp = String(Number(request.headers['webhook-timestamp']) + 1);
    expect(await rejection(verify({ ...request.headers, 'webhook-timestamp': timestamp }))).toBe(
      'NO_MATCHING_SIGNATURE',
    );
  });

  it('should reject a signature cut short or made longer', async () => {
    const signature = request.headers['webhook-signature']!;
    const bytes = Buffer.from(signature.slice('v1,'.length), 'base64');
    for (const changed of [bytes.subarray(0, 16), Buffer.concat([bytes, Buffer.from([0])])]) {
      const headers = {
        ...request.headers,
        'webhook-signature': `v1,${changed.toString('base64')}`,
      };
      expect(await rejection(verify(headers))).toBe('NO_MATCHING_SIGNATURE');
    }
  });

  it('should reject a request with only a signature of another version', async () => {
    const [, base64] = request.headers['webhook-signature']!.split(',');
    for (const version of ['v2', 'v1a']) {
      const headers = { ...request.headers, 'webhook-signature': `${version},${base64}` };
      expect(await rejection(verify(headers))).toBe('NO_MATCHING_SIGNATURE');
    }
  });

  it('should accept a timestamp within 5 minutes either way, and reject one beyond', async () => {
    await expect(verify(request.headers, request.body, { now: at(300) })).resolves.toEqual(
      payloadStub,
    );
    await expect(verify(request.headers, request.body, { now: at(-300) })).resolves.toEqual(
      payloadStub,
    );
    expect(await rejection(verify(request.headers, request.body, { now: at(301) }))).toBe(
      'TIMESTAMP_TOO_OLD',
    );
    expect(await rejection(verify(request.headers, request.body, { now: at(-301) }))).toBe(
      'TIMESTAMP_TOO_NEW',
    );
  });

  it('should take another tolerance from options', async () => {
    const options = (seconds: number) => ({ now: at(seconds), toleranceSeconds: 30 });
    await expect(verify(request.headers, request.body, options(30))).resolves.toEqual(payloadStub);
    expect(await rejection(verify(request.headers, request.body, options(31)))).toBe(
      'TIMESTAMP_TOO_OLD',
    );
    expect(await rejection(verify(request.headers, request.body, options(-31)))).toBe(
      'TIMESTAMP_TOO_NEW',
    );
  });

  it('should check the timestamp against the real clock by default', async () => {
    const fresh = signedRequestStub(secret, { sentAt: new Date() });
    await expect(verifyWebhook(fresh.body, fresh.headers, secret)).resolves.toEqual(payloadStub);
    const stale = signedRequestStub(secret, { sentAt: new Date(Date.now() - 10 * 60_000) });
    expect(await rejection(verifyWebhook(stale.body, stale.headers, secret))).toBe(
      'TIMESTAMP_TOO_OLD',
    );
  });

  it.for(['webhook-id', 'webhook-timestamp', 'webhook-signature'])(
    'should reject a request without %s, or with it empty',
    async (name) => {
      const { [name]: _, ...without } = request.headers;
      expect(await rejection(verify(without))).toBe('MISSING_HEADER');
      expect(await rejection(verify(new Headers(without)))).toBe('MISSING_HEADER');
      expect(await rejection(verify({ ...request.headers, [name]: '' }))).toBe('MISSING_HEADER');
      expect(await rejection(verify({ ...request.headers, [name]: undefined }))).toBe(
        'MISSING_HEADER',
      );
      expect(await rejection(verify({ ...request.headers, [name]: [] }))).toBe('MISSING_HEADER');
    },
  );

  it.for(['garbage', 'v1', 'v1,', ',abc=', 'v1,@@@@', 'v1,abc$', '   '])(
    'should reject a malformed signature header: %j',
    async (signature) => {
      const headers = { ...request.headers, 'webhook-signature': signature };
      expect(await rejection(verify(headers))).toBe('MALFORMED_HEADER');
    },
  );

  it.for(['soon', '1.5', '-1', '1e9', `${request.headers['webhook-timestamp']}abc`, '0x10'])(
    'should reject a malformed timestamp: %j',
    async (timestamp) => {
      const headers = { ...request.headers, 'webhook-timestamp': timestamp };
      expect(await rejection(verify(headers))).toBe('MALFORMED_HEADER');
    },
  );

  it('should reject a signed body that is not JSON, keeping the parse error as cause', async () => {
    const text = signedRequestStub(secret, { body: 'not json' });
    const error = await verifyWebhook(text.body, text.headers, secret, { now: at(0) }).catch(
      (error: unknown) => error,
    );
    expect(error).toMatchObject({ reason: 'INVALID_PAYLOAD' });
    expect((error as WebhookVerificationError).cause).toBeInstanceOf(SyntaxError);
  });

  it('should throw errors of the library: HeyGenError, code WEBHOOK_VERIFICATION', async () => {
    const error = await verify({}).catch((error: unknown) => error);
    expect(error).toBeInstanceOf(HeyGenError);
    expect(isHeyGenError(error)).toBe(true);
    expect(error).toMatchObject({
      name: 'WebhookVerificationError',
      code: 'WEBHOOK_VERIFICATION',
      reason: 'MISSING_HEADER',
      message: 'Missing webhook-id header',
    });
  });

  it('should throw a TypeError for a parsed body, a secret that is not base64, or a bad option', async () => {
    const parsed = JSON.parse(request.body) as unknown as string;
    await expect(verify(request.headers, parsed)).rejects.toThrow(/raw request body/);
    for (const bad of ['', 'whsec_', 'whsec_not base64!', 42 as unknown as string]) {
      await expect(verifyWebhook(request.body, request.headers, bad)).rejects.toThrow(TypeError);
    }
    for (const toleranceSeconds of [-1, Number.NaN, '300' as unknown as number]) {
      await expect(
        verifyWebhook(request.body, request.headers, secret, { toleranceSeconds }),
      ).rejects.toThrow(/toleranceSeconds/);
    }
  });

  it('should throw a TypeError for a clock that gives no number, or headers that are none', async () => {
    // A `now` giving NaN, a string or a function passed every timestamp, however old.
    const clocks = [
      () => Number.NaN,
      () => undefined,
      () => new Date().toISOString(),
      () => Date.now,
    ];
    for (const now of clocks) {
      const options = { now } as unknown as VerifyWebhookOptions;
      await expect(verify(request.headers, request.body, options)).rejects.toThrow(/option now/);
    }
    for (const headers of [null, undefined, 'webhook-id: 1']) {
      const verifying = verifyWebhook(request.body, headers as unknown as WebhookHeaders, secret);
      await expect(verifying).rejects.toThrow(TypeError);
    }
  });

  it.for(['webhook-id', 'webhook-timestamp', 'webhook-signature'])(
    'should reject %s that is not text as malformed, not with a TypeError',
    async (name) => {
      const headers = { ...request.headers, [name]: 1.5 } as unknown as WebhookHeaders;
      expect(await rejection(verify(headers))).toBe('MALFORMED_HEADER');
    },
  );

  it('should agree with standardwebhooks’ own verify on what passes and what fails', async () => {
    // standardwebhooks reads the real clock: sign now. It compares whole seconds, and its clock may
    // pass a second boundary between signing and verifying: 'future' is 302 s ahead, so that it is
    // still more than 300 s ahead then (301 s came out exactly 300 s ahead in some runs).
    const now = new Date();
    const fresh = signedRequestStub(secret, { sentAt: now });
    const cases: Array<[string, SignedRequest, boolean]> = [
      ['valid', fresh, true],
      ['tampered body', { ...fresh, body: fresh.body.replace('7', '8') }, false],
      ['wrong id', { ...fresh, headers: { ...fresh.headers, 'webhook-id': 'other' } }, false],
      ['old', signedRequestStub(secret, { sentAt: new Date(now.getTime() - 301_000) }), false],
      ['future', signedRequestStub(secret, { sentAt: new Date(now.getTime() + 302_000) }), false],
      ['other secret', signedRequestStub(secretStub(), { sentAt: now }), false],
    ];
    for (const [name, { body, headers }, valid] of cases) {
      const theirs = (() => {
        try {
          new Webhook(secret).verify(body, headers);
          return true;
        } catch {
          return false;
        }
      })();
      const ours = await verifyWebhook(body, headers, secret).then(
        () => true,
        () => false,
      );
      expect({ name, theirs, ours }).toEqual({ name, theirs: valid, ours: valid });
    }
  });
});
