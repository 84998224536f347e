import { request as httpRequest } from 'node:http';
import { describe, expect, it, vi } from 'vitest';
import { openSse, type ApiError, type Job } from 'heygen-test-support';
import { requestJson, type JsonResponse } from './support/http.js';
import { JobsClient } from './support/jobs-client.js';
import { RawConnection } from './support/raw-socket.js';
import { startServer } from './support/server.js';
import { describeEachAdapter } from './support/adapters.js';

const MAX_JOB_TIME_MS = 10_000;
const MAX_BODY_BYTES = 256;
const ENV = {
  JOB_TIME: '5000',
  MAX_JOB_TIME_MS: String(MAX_JOB_TIME_MS),
  MAX_BODY_BYTES: String(MAX_BODY_BYTES),
  MAX_BATCH_IDS: '5',
  MAX_STREAMS_PER_CLIENT: '2',
  MAX_ACTIVE_JOBS_PER_CLIENT: '3',
};

interface Fixture {
  client: JobsClient;
  /** A job of this client that no bad request may touch. */
  bystander: Job;
}

async function setUp(): Promise<Fixture> {
  const server = await startServer(ENV);
  const client = new JobsClient(server.url);
  return { client, bystander: await client.createOk() };
}

/** The protocol's error body: status, reason phrase, stable code and a message. */
function expectError(res: JsonResponse<unknown>, statusCode: number, code: string): void {
  expect({ status: res.status, body: res.body }).toMatchObject({
    status: statusCode,
    body: {
      statusCode,
      code,
      error: expect.any(String) as unknown,
      message: expect.any(String) as unknown,
    },
  });
  expect((res.body as ApiError).message).not.toBe('');
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
}

/**
 * Fails unless the bystander job is still there and unchanged (apart from running on), and no
 * job appeared but those the test created on purpose.
 */
async function expectUntouched({ client, bystander }: Fixture, created: Job[] = []): Promise<void> {
  const res = await client.status(bystander.id);
  expect(res.status).toBe(200);
  expect(res.body).toMatchObject({ id: bystander.id, createdAt: bystander.createdAt });
  expect(res.body.status).not.toBe('cancelled');
  expect((await client.batch()).body.jobs.map((job) => job.id)).toEqual([
    bystander.id,
    ...created.map((job) => job.id),
  ]);
}

/** A request whose body and headers are exactly as given (fetch would fix some of them). */
function rawRequest(
  url: string,
  method: string,
  /** A list is sent as that many header lines. */
  headers: Record<string, string | number | string[]>,
  body?: string | Buffer,
): Promise<JsonResponse<ApiError>> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        const responseHeaders = new Headers();
        for (const [name, value] of Object.entries(res.headers)) {
          if (typeof value === 'string') responseHeaders.set(name, value);
        }
        resolve({
          status: res.statusCode ?? 0,
          headers: responseHeaders,
          body: (text === '' ? undefined : JSON.parse(text)) as ApiError,
        });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

describeEachAdapter(() => {
  describe('bad job ids', () => {
    it.each([
      ['non-numeric', 'abc'],
      ['negative', '-1'],
      ['zero', '0'],
      ['fractional', '1.5'],
      ['exponent', '1e3'],
      ['huge (16 digits)', '1234567890123456'],
      ['huge (beyond 2^64)', '99999999999999999999999'],
      ['hexadecimal', '0x10'],
    ])('should answer 400 INVALID_JOB_ID for a %s id on status and cancel', async (_, id) => {
      const fixture = await setUp();

      expectError(await fixture.client.status(encodeURIComponent(id)), 400, 'INVALID_JOB_ID');
      expectError(await fixture.client.cancel(encodeURIComponent(id)), 400, 'INVALID_JOB_ID');
      await expectUntouched(fixture);
    });

    it('should answer 400 INVALID_JOB_ID for an id that is not valid percent-encoding', async () => {
      const fixture = await setUp();

      expectError(await fixture.client.status('%E0%A4%A'), 400, 'INVALID_JOB_ID');
      expectError(await fixture.client.cancel('%E0%A4%A'), 400, 'INVALID_JOB_ID');
      // A bare `%` before escaped digits stays malformed: it is not made the id `%31…`, or `1…`
      // (review of 2026-12-01).
      const id = String(fixture.bystander.id);
      const malformed = `%%33%3${id[0]}${id.slice(1)}`;
      expectError(await fixture.client.status(malformed), 400, 'INVALID_JOB_ID');
      await expectUntouched(fixture);
    });

    it('should answer 404 JOB_NOT_FOUND for unknown ids, up to 15 digits', async () => {
      const fixture = await setUp();

      for (const id of [String(fixture.bystander.id + 1), '999999999999999']) {
        const status = await fixture.client.status(id);
        expectError(status, 404, 'JOB_NOT_FOUND');
        expect(status.body.error).toBe('Not Found');
        expectError(await fixture.client.cancel(id), 404, 'JOB_NOT_FOUND');
      }
      await expectUntouched(fixture);
    });
  });

  describe('bad client ids', () => {
    it.each([
      ['missing', undefined],
      ['empty', ''],
      ['not a UUID', 'alice'],
      ['a UUID without dashes', '123e4567e89b42d3a456426614174000'],
      ['a UUID with braces', '{123e4567-e89b-42d3-a456-426614174000}'],
      ['a UUID with a bad character', '123e4567-e89b-42d3-a456-42661417400g'],
    ])(
      'should answer 400 INVALID_CLIENT_ID when uuid is %s, on every job route',
      async (_, uuid) => {
        const fixture = await setUp();
        const base = fixture.client.baseUrl;
        const query = uuid === undefined ? '' : `?uuid=${encodeURIComponent(uuid)}`;
        const id = fixture.bystander.id;

        expectError(
          await requestJson(`${base}/create${query}`, { method: 'POST' }),
          400,
          'INVALID_CLIENT_ID',
        );
        expectError(await requestJson(`${base}/status/${id}${query}`), 400, 'INVALID_CLIENT_ID');
        expectError(await requestJson(`${base}/status${query}`), 400, 'INVALID_CLIENT_ID');
        expectError(
          await requestJson(`${base}/cancel/${id}${query}`, { method: 'POST' }),
          400,
          'INVALID_CLIENT_ID',
        );
        const stream = await openSse(`${base}/status${query}`);
        expect(stream.status).toBe(400);
        expect(await stream.json()).toMatchObject({ statusCode: 400, code: 'INVALID_CLIENT_ID' });
        await expectUntouched(fixture);
      },
    );

    it('should accept a client id in upper case as the same client', async () => {
      const fixture = await setUp();
      const upper = new JobsClient(fixture.client.baseUrl, {
        clientId: fixture.client.clientId.toUpperCase(),
      });

      const res = await upper.status(fixture.bystander.id);

      expect(res.status).toBe(200);
    });
  });

  describe('bad bodies', () => {
    it.each([
      ['malformed JSON', '{"duration": '],
      ['a JSON string', '"hello"'],
      ['JSON null', 'null'],
      ['a JSON array', '[]'],
      ['an unknown field', '{"priority": 1}'],
      ['an unknown field beside known ones', '{"duration": 100, "extra": true}'],
      ['an unknown field named constructor', '{"constructor": {}}'],
      ['an unknown field named __proto__', '{"__proto__": {"duration": 1}}'],
      ['a string duration', '{"duration": "100"}'],
      ['a fractional duration', '{"duration": 1.5}'],
      ['a null duration', '{"duration": null}'],
      ['a string fail', '{"fail": "yes"}'],
      ['a numeric fail', '{"fail": 1}'],
      ['a negative duration', '{"duration": -1}'],
      ['a duration above MAX_JOB_TIME_MS', `{"duration": ${MAX_JOB_TIME_MS + 1}}`],
      ['a huge duration', '{"duration": 1e300}'],
    ])('should answer 400 INVALID_BODY for %s', async (_, body) => {
      const fixture = await setUp();

      const res = await fixture.client.create(body);

      expectError(res, 400, 'INVALID_BODY');
      await expectUntouched(fixture);
    });

    it('should accept the largest duration allowed', async () => {
      const fixture = await setUp();

      const res = await fixture.client.create({ duration: MAX_JOB_TIME_MS });

      expect(res.status).toBe(201);
      expect(res.body.duration).toBe(MAX_JOB_TIME_MS);
    });

    it('should answer 413 PAYLOAD_TOO_LARGE for a body over MAX_BODY_BYTES', async () => {
      const fixture = await setUp();
      const body = JSON.stringify({ duration: 100, pad: 'x'.repeat(MAX_BODY_BYTES) });

      expectError(await fixture.client.create(body), 413, 'PAYLOAD_TOO_LARGE');
      await expectUntouched(fixture);
    });

    it('should answer 413 for a chunked body over MAX_BODY_BYTES', async () => {
      const fixture = await setUp();
      const body = JSON.stringify({ pad: 'x'.repeat(MAX_BODY_BYTES * 4) });

      const res = await rawRequest(
        fixture.client.url('/create'),
        'POST',
        { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' },
        body,
      );

      expectError(res, 413, 'PAYLOAD_TOO_LARGE');
      await expectUntouched(fixture);
    });

    it.each([
      ['text/plain', '{"duration": 100}'],
      ['application/x-www-form-urlencoded', 'duration=100'],
      ['multipart/form-data; boundary=x', '--x--'],
    ])('should answer 415 UNSUPPORTED_MEDIA_TYPE for a %s body', async (type, body) => {
      const fixture = await setUp();

      const res = await requestJson(fixture.client.url('/create'), {
        method: 'POST',
        headers: { 'Content-Type': type },
        body,
      });

      expectError(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
      await expectUntouched(fixture);
    });

    it('should answer 415 for a body without a content type', async () => {
      const fixture = await setUp();

      const res = await rawRequest(fixture.client.url('/create'), 'POST', {}, '{}');

      expectError(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
    });

    it.each([
      [
        'an unsupported charset',
        { 'Content-Type': 'application/json; charset=latin1' },
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      ],
      [
        'a content encoding',
        { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' },
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      ],
    ] as const)(
      'should answer a body with %s as a client error',
      async (_, headers, status, code) => {
        const fixture = await setUp();

        const res = await rawRequest(fixture.client.url('/create'), 'POST', { ...headers }, '{}');

        expectError(res, status, code);
        await expectUntouched(fixture);
      },
    );

    it('should create a job from an empty JSON body', async () => {
      const fixture = await setUp();

      const res = await rawRequest(fixture.client.url('/create'), 'POST', {
        'Content-Type': 'application/json',
        'Content-Length': 0,
      });

      expect(res.status).toBe(201);
    });

    it('should create a job from an empty body with any content type', async () => {
      const fixture = await setUp();

      const res = await rawRequest(fixture.client.url('/create'), 'POST', {
        'Content-Type': 'text/plain',
        'Content-Length': 0,
      });

      expect(res.status).toBe(201);
    });
  });

  describe('bad Idempotency-Key', () => {
    it.each([
      ['empty', ''],
      ['longer than 255 characters', 'k'.repeat(256)],
      ['not ASCII', 'clé'],
      ['holding a control character', 'a\tb'],
    ])('should answer 400 INVALID_IDEMPOTENCY_KEY for a key %s', async (_, key) => {
      const fixture = await setUp();

      const res = await rawRequest(fixture.client.url('/create'), 'POST', {
        'Idempotency-Key': Buffer.from(key, 'utf8').toString('latin1'),
      });

      expectError(res, 400, 'INVALID_IDEMPOTENCY_KEY');
      await expectUntouched(fixture);
    });

    it.each([
      ['Idempotency-Key', ['key-a', 'key-b'], 'INVALID_IDEMPOTENCY_KEY'],
      ['Cancel-After', ['5m', '10m'], 'INVALID_CANCEL_AFTER'],
    ])(
      'should refuse %s sent twice (%j) with 400 %s, creating nothing',
      async (name, values, code) => {
        const fixture = await setUp();

        const res = await rawRequest(fixture.client.url('/create'), 'POST', { [name]: values });

        expectError(res, 400, code);
        await expectUntouched(fixture);
      },
    );

    it('should accept a key holding a comma, sent once', async () => {
      const fixture = await setUp();

      const res = await fixture.client.create(undefined, { 'Idempotency-Key': 'key-a, key-b' });

      expect(res.status).toBe(201);
    });

    it('should accept a key of 255 printable characters', async () => {
      const fixture = await setUp();

      const res = await fixture.client.create(undefined, { 'Idempotency-Key': '~'.repeat(255) });

      expect(res.status).toBe(201);
    });
  });

  describe('bad batch queries', () => {
    it.each([
      ['empty', ''],
      ['with an empty item', '1,,2'],
      ['with a trailing comma', '1,'],
      ['non-numeric', '1,abc'],
      ['negative', '-1'],
      ['with a huge id', '1234567890123456'],
      ['with spaces', '1, 2'],
      ['longer than MAX_BATCH_IDS', '1,2,3,4,5,6'],
    ])('should answer 400 INVALID_QUERY for an ids list %s', async (_, ids) => {
      const fixture = await setUp();

      expectError(await fixture.client.batch(ids), 400, 'INVALID_QUERY');
      await expectUntouched(fixture);
    });

    it('should answer 400 INVALID_QUERY for ids given twice', async () => {
      const fixture = await setUp();

      const res = await requestJson(`${fixture.client.url('/status')}&ids=1&ids=2`);

      expectError(res, 400, 'INVALID_QUERY');
    });

    it('should accept exactly MAX_BATCH_IDS ids', async () => {
      const fixture = await setUp();

      const res = await fixture.client.batch('1,2,3,4,5');

      expect(res.status).toBe(200);
    });
  });

  describe('limits', () => {
    it('should answer 429 TOO_MANY_STREAMS with Retry-After past MAX_STREAMS_PER_CLIENT', async () => {
      const fixture = await setUp();
      const url = fixture.client.url('/status');
      const open = [await openSse(url), await openSse(url)];
      await Promise.all(open.map((stream) => stream.nextEvent('connected')));

      const refused = await openSse(url);
      const otherClient = await openSse(new JobsClient(fixture.client.baseUrl).url('/status'));

      expect(refused.status).toBe(429);
      expect(refused.headers['retry-after']).toMatch(/^\d+$/);
      expect(await refused.json()).toMatchObject({
        statusCode: 429,
        error: 'Too Many Requests',
        code: 'TOO_MANY_STREAMS',
        message: expect.any(String) as unknown,
      });
      expect(otherClient.status).toBe(200);
      expect(open.every((stream) => !stream.isClosed)).toBe(true);
      await expectUntouched(fixture);
    });

    it('should accept a new stream once an old one closed', async () => {
      const fixture = await setUp();
      const url = fixture.client.url('/status');
      const first = await openSse(url);
      await openSse(url);
      await first.nextEvent('connected');

      first.destroy();

      await vi.waitFor(async () => {
        const again = await openSse(url);
        expect(again.status).toBe(200);
      });
    });

    it('should answer 429 TOO_MANY_JOBS with Retry-After past MAX_ACTIVE_JOBS_PER_CLIENT', async () => {
      const fixture = await setUp();
      await fixture.client.createOk();
      await fixture.client.createOk();

      const res = await fixture.client.create();
      const other = await new JobsClient(fixture.client.baseUrl).create();

      expectError(res, 429, 'TOO_MANY_JOBS');
      expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(other.status).toBe(201);
      expect((await fixture.client.batch()).body.jobs).toHaveLength(3);
    });

    it('should accept new jobs again once one finished', async () => {
      const fixture = await setUp();
      const second = await fixture.client.createOk();
      await fixture.client.createOk();

      await fixture.client.cancel(second.id);

      expect((await fixture.client.create()).status).toBe(201);
    });
  });

  describe('unknown routes', () => {
    it.each([
      ['GET', '/nope'],
      ['POST', '/status/1'],
      ['GET', '/create'],
      ['PUT', '/create'],
      ['GET', '/cancel/1'],
      ['GET', '/status/1/extra'],
      // A method no route takes, with or without a body Fastify would otherwise look at first.
      ['QUERY', '/nope'],
      ['PATCH', '/create'],
      ['DELETE', '/status/1'],
      // A path that cannot be decoded, past the job id: it names no route.
      ['GET', '/status/1/%ZZ'],
      ['GET', '/status/1/deliveries%ZZ'],
      ['POST', '/status/1/deliveries/%ZZ/retry'],
    ])('should answer %s %s with 404 NOT_FOUND', async (method, path) => {
      const fixture = await setUp();

      const res = await requestJson(fixture.client.url(path), { method });

      expectError(res, 404, 'NOT_FOUND');
      await expectUntouched(fixture);
    });

    it('should not echo the query of an unknown route, where a key or the uuid may be (review of 2026-12-01)', async () => {
      const fixture = await setUp();

      const res = await requestJson(`${fixture.client.url('/nope')}&access_token=s3cret-key`);

      expectError(res, 404, 'NOT_FOUND');
      expect(JSON.stringify(res.body)).not.toMatch(/s3cret-key|uuid=/);
      expect(res.body).toMatchObject({ message: 'Cannot GET /nope' });
    });

    it('should take an escaped unreserved character in the path for itself (review of 2026-12-01)', async () => {
      const { client, bystander } = await setUp();

      const one = await requestJson(client.url(`/st%61tus/${bystander.id}`));
      const reserved = await requestJson(client.url(`/status%2F${bystander.id}`));

      expect(one.status).toBe(200);
      expect(one.body).toMatchObject({ id: bystander.id });
      expectError(reserved, 404, 'NOT_FOUND');
    });

    it('should answer CONNECT with 404 NOT_FOUND and close, as any method of no route (review of 2026-12-01)', async () => {
      const fixture = await setUp();
      const connection = await RawConnection.open(fixture.client.url('/'));

      // Node closed the connection without a word.
      connection.write('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n');
      await connection.waitForClose();

      const [answer] = connection.responses();
      expect(answer?.status).toBe(404);
      expect(answer?.headers.connection).toBe('close');
      expect(JSON.parse(answer!.body)).toMatchObject({ code: 'NOT_FOUND' });
      await expectUntouched(fixture);
    });

    it('should answer a CONNECT pipelined behind a request after that request (self-review of 2026-12-01)', async () => {
      const { client, bystander } = await setUp();
      const connection = await RawConnection.open(client.url('/'));
      const { search } = new URL(client.url('/'));

      connection.write(
        `GET /status/${bystander.id}${search} HTTP/1.1\r\nHost: x\r\n\r\n` +
          'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n',
      );
      await connection.waitForClose();

      // The 404 came in the GET's place, and the GET's answer never came.
      const answers = connection.responses();
      expect(answers.map((answer) => answer.status)).toEqual([200, 404]);
      expect(JSON.parse(answers[0]!.body)).toMatchObject({ id: bystander.id });
    });

    it('should answer a body sent with a method no route takes 404, whatever its type', async () => {
      const fixture = await setUp();

      const res = await requestJson(fixture.client.url('/create'), {
        method: 'PUT',
        headers: { 'Content-Type': 'text/plain' },
        body: 'not json',
      });

      expectError(res, 404, 'NOT_FOUND');
      await expectUntouched(fixture);
    });
  });

  describe('after every kind of bad input', () => {
    it('should still serve, and every other job should run on untouched', async () => {
      const fixture = await setUp();
      const { client } = fixture;
      const watched = await client.createOk({ duration: 300 });

      const answers = await Promise.all([
        client.status('abc'),
        client.status('-5'),
        client.cancel('99999999999999999999'),
        client.create('{"duration":'),
        client.create({ duration: -1 }),
        client.create({ unknown: 1 }),
        client.create(JSON.stringify({ pad: 'x'.repeat(MAX_BODY_BYTES * 2) })),
        requestJson(client.url('/create'), {
          method: 'POST',
          headers: { 'Content-Type': 'text/plain' },
          body: 'x',
        }),
        client.batch('1,,x'),
        requestJson(`${client.baseUrl}/status?uuid=bad`),
        requestJson(`${client.baseUrl}/no/such/route`),
      ]);

      for (const res of answers) {
        expect(res.status).toBeGreaterThanOrEqual(400);
        expect(res.status).toBeLessThan(500);
      }
      expect((await requestJson(`${client.baseUrl}/health`)).status).toBe(200);
      const done = await client.waitFor(
        watched.id,
        (job) => job.status !== 'running' && job.status !== 'pending',
      );
      expect(done.status).toBe('completed');
      await expectUntouched(fixture, [watched]);
    });
  });
});
