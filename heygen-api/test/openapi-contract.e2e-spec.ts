import { request } from 'node:http';
import { Ajv, type ValidateFunction } from 'ajv';
import { openSse, type ApiError, type Batch, type CatchUp, type Job } from 'heygen-test-support';
import { describe, expect, it, vi } from 'vitest';
import { describeEachAdapter } from './support/adapters.js';
import { newClientId } from './support/client-id.js';
import { requestJson } from './support/http.js';
import { JobsClient } from './support/jobs-client.js';
import { startServer, type TestServer } from './support/server.js';
import { startReceiver } from './support/webhook-receiver.js';

// The server's real answers, held to the OpenAPI document that same server serves. Requests are
// checked by validators compiled from the document's own schemas, so they cannot drift from it;
// this file keeps the responses honest too: every answer must belong to a documented operation,
// carry a documented status, have a body its schema accepts and every header the document marks
// required. docs/protocol.md is the contract and the document describes it: an answer this file
// refuses is a bug in the document, or in the server where it departs from the protocol.

const API_KEY = 'contract-test-key';

/** Jobs that run until cancelled unless they ask for a duration; the receivers are on loopback. */
const ENV = {
  API_KEYS: API_KEY,
  JOB_TIME: '60000',
  PROGRESS_INTERVAL_MS: '60000',
  HEARTBEAT_MS: '60000',
  WEBHOOK_ALLOW_PRIVATE: 'true',
};

/** An id no client has: ids are counted from the creation time in ms, so 15 nines is far ahead. */
const UNKNOWN_ID = '999999999999999';

type Schema = Record<string, unknown>;

interface HeaderObject {
  required?: boolean;
  schema?: Schema;
}

interface ResponseObject {
  headers?: Record<string, HeaderObject>;
  content?: Record<string, { schema?: Schema }>;
}

interface OpenApiDocument {
  paths: Record<string, Record<string, { responses: Record<string, ResponseObject> }>>;
}

/** One real exchange: what was asked, and what came back. */
interface Exchange {
  method: string;
  url: string;
  status: number;
  headers: Headers;
  /** The body as text; undefined for an event stream, which is not read. */
  text: string | undefined;
}

/** RFC 3339 `date-time`, as OpenAPI means it. */
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/i;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A JSON pointer segment inside a URI fragment (RFC 6901 §3 and §6). */
const segment = (key: string): string =>
  encodeURIComponent(key.replaceAll('~', '~0').replaceAll('/', '~1'));

/** How specific a path template is: its literal characters (`/status/{id}/deliveries` > `/status/{id}`). */
const literalLength = (template: string): number => template.replace(/\{[^}]+\}/g, '').length;

const templatePattern = (template: string): RegExp =>
  new RegExp(
    `^${template
      .split(/\{[^}]+\}/)
      .map((part) => part.replace(/[.*+?^$()|[\]\\]/g, '\\$&'))
      .join('[^/]+')}$`,
  );

/** A header's value as its schema types it: headers are text, `X-Next-Poll-Ms` an integer. */
function headerValue(value: string, schema: Schema | undefined): unknown {
  const numeric = schema?.type === 'integer' || schema?.type === 'number';
  return numeric && /^-?\d+(?:\.\d+)?$/.test(value) ? Number(value) : value;
}

/** The document one server serves, compiled once: what every answer of that server must satisfy. */
class OpenApiContract {
  private static readonly DOCUMENT_ID = 'heygen-openapi.json';
  private readonly ajv: Ajv;
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(private readonly document: OpenApiDocument) {
    this.ajv = new Ajv({
      // OpenAPI 3.0 schemas are JSON Schema with keywords of their own: `example` and the like are
      // let through (strict off), `nullable` Ajv knows. No `discriminator` here: Ajv's would refuse
      // a `mapping`, and the `oneOf` beneath one is checked either way.
      strict: false,
      allErrors: true,
      formats: { 'date-time': DATE_TIME, uuid: UUID },
    });
    // The whole document, so that a response schema's `#/components/schemas/…` resolves in it.
    this.ajv.addSchema(document, OpenApiContract.DOCUMENT_ID);
  }

  /** Every way `exchange` departs from the document, each as one line; none when it conforms. */
  problems({ method, url, status, headers, text }: Exchange): string[] {
    const path = new URL(url).pathname;
    const template = Object.keys(this.document.paths)
      .filter((candidate) => templatePattern(candidate).test(path))
      .sort((a, b) => literalLength(b) - literalLength(a))[0];
    if (template === undefined) return [`${method} ${path}: no path of the document matches`];
    const verb = method.toLowerCase();
    const operation = this.document.paths[template]?.[verb];
    if (!operation) return [`${method} ${template}: not an operation of the document`];
    const { responses } = operation;
    const key = [String(status), 'default'].find((candidate) => candidate in responses);
    const where = `${method} ${template} ${status}`;
    if (key === undefined) {
      return [`${where}: status not documented (only ${Object.keys(responses).join(', ')})`];
    }
    const response = responses[key]!;
    const pointer = ['paths', template, verb, 'responses', key].map(segment).join('/');
    const problems: string[] = [];

    for (const [name, header] of Object.entries(response.headers ?? {})) {
      const value = headers.get(name);
      if (value === null) {
        if (header.required) problems.push(`${where}: required header ${name} missing`);
        continue;
      }
      if (!header.schema) continue;
      const check = this.validator(`${pointer}/headers/${segment(name)}/schema`);
      if (!check(headerValue(value, header.schema))) {
        problems.push(`${where}: header ${name}: ${JSON.stringify(value)} ${this.errors(check)}`);
      }
    }

    const mediaType = headers.get('content-type')?.split(';')[0]?.trim().toLowerCase();
    if (text === '') {
      if (response.content) problems.push(`${where}: no body, but the document describes one`);
      return problems;
    }
    if (mediaType === undefined || !response.content?.[mediaType]) {
      const documented = Object.keys(response.content ?? {}).join(', ') || 'no body';
      problems.push(`${where}: a body of ${mediaType ?? 'no type'}, documented: ${documented}`);
      return problems;
    }
    // A stream's events are docs/protocol.md's, not the document's: its type is what it checks.
    if (text === undefined || !response.content[mediaType].schema) return problems;
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return [
        ...problems,
        `${where}: a body of ${mediaType} that is not JSON: ${text.slice(0, 200)}`,
      ];
    }
    const check = this.validator(`${pointer}/content/${segment(mediaType)}/schema`);
    if (!check(body)) {
      problems.push(`${where}: body ${this.errors(check)}; it was ${text.slice(0, 500)}`);
    }
    return problems;
  }

  private validator(pointer: string): ValidateFunction {
    let check = this.validators.get(pointer);
    if (!check) {
      check = this.ajv.compile({ $ref: `${OpenApiContract.DOCUMENT_ID}#/${pointer}` });
      this.validators.set(pointer, check);
    }
    return check;
  }

  private errors(check: ValidateFunction): string {
    return this.ajv.errorsText(check.errors, { dataVar: 'it', separator: '; ' });
  }
}

interface Ask {
  query?: Record<string, string>;
  headers?: Record<string, string>;
  /** Sent as JSON unless it is already a string (sent as is). */
  body?: unknown;
  /** Send the API key. @default true */
  key?: boolean;
}

/** An exchange whose status was the one expected, its JSON body parsed. */
interface Answer<T> extends Exchange {
  body: T;
}

/**
 * One client of one server that holds every answer it gets to the document that server serves:
 * `check(status, method, path)` sends a request as this client, fails unless the answer has the
 * status the scenario is about, then reports every departure from the document (softly, so that
 * one run lists every mismatch).
 */
class ContractClient {
  private constructor(
    private readonly contract: OpenApiContract,
    /** The same client, for setting up what a check needs. */
    readonly jobs: JobsClient,
  ) {}

  static async of(server: TestServer): Promise<ContractClient> {
    const res = await requestJson<OpenApiDocument>(`${server.url}/docs/openapi.json`);
    expect(res.status).toBe(200);
    return new ContractClient(
      new OpenApiContract(res.body),
      new JobsClient(server.url, { apiKey: API_KEY }),
    );
  }

  /** Every departure of `exchange` from the document. */
  problems(exchange: Exchange): string[] {
    return this.contract.problems(exchange);
  }

  async check<T = ApiError>(
    status: number,
    method: string,
    path: string,
    ask: Ask = {},
  ): Promise<Answer<T>> {
    const exchange = await this.send(method, path, ask);
    const label = `${method} ${path}`;
    expect(exchange.status, `${label}: ${exchange.text ?? 'a stream'}`).toBe(status);
    expect.soft(this.contract.problems(exchange), `${label} → ${status}`).toEqual([]);
    const body = exchange.text ? (JSON.parse(exchange.text) as T) : (undefined as T);
    return { ...exchange, body };
  }

  /**
   * One request over real HTTP on a connection of its own, its answer kept whole; an event stream
   * is not read: its connection is dropped once its head is in, as a client that goes away.
   */
  send(
    method: string,
    path: string,
    { query = {}, headers = {}, body, key = true }: Ask = {},
  ): Promise<Exchange> {
    const url = this.jobs.url(path, query);
    const payload =
      body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const sent: Record<string, string> = {
      ...(key && { Authorization: `Bearer ${API_KEY}` }),
      ...(payload !== undefined && { 'Content-Type': 'application/json' }),
      ...headers,
    };
    return new Promise((resolve, reject) => {
      const req = request(url, { method, headers: sent, agent: false });
      req.on('response', (res) => {
        const answer = { method, url, status: res.statusCode ?? 0, headers: new Headers() };
        for (const [name, value] of Object.entries(res.headers)) {
          if (value !== undefined) answer.headers.set(name, [value].flat().join(', '));
        }
        if (/^text\/event-stream/i.test(res.headers['content-type'] ?? '')) {
          res.socket.destroy();
          resolve({ ...answer, text: undefined });
          return;
        }
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ ...answer, text }));
        res.on('error', reject);
      });
      // A body refused from its headers (413, 415) may meet a closed connection: the answer counts.
      req.on('error', reject);
      req.end(payload);
    });
  }
}

async function setUp(env: Record<string, string> = {}): Promise<ContractClient> {
  return ContractClient.of(await startServer({ ...ENV, ...env }));
}

describeEachAdapter(() => {
  describe('answers, held to the OpenAPI document the server serves', () => {
    it('should describe POST /create: created, replayed and refused', async () => {
      const api = await setUp();
      const key = { 'Idempotency-Key': 'contract-1' };

      const created = await api.check<Job>(201, 'POST', '/create', { body: {} });
      await api.check(201, 'POST', '/create');
      await api.check(201, 'POST', '/create', { headers: key, body: { duration: 50 } });
      const replayed = await api.check<Job>(200, 'POST', '/create', {
        headers: key,
        body: { duration: 50 },
      });
      await api.check(422, 'POST', '/create', { headers: key, body: { duration: 60 } });
      await api.check(400, 'POST', '/create', { body: { duration: 'soon' } });
      await api.check(400, 'POST', '/create', { headers: { 'Idempotency-Key': 'k'.repeat(256) } });
      await api.check(400, 'POST', '/create', { headers: { 'Cancel-After': '-1s' } });
      await api.check(400, 'POST', '/create', { query: { uuid: 'not-a-uuid' } });
      await api.check(413, 'POST', '/create', { body: { webhook: 'x'.repeat(5000) } });
      await api.check(415, 'POST', '/create', {
        headers: { 'Content-Type': 'text/plain' },
        body: 'duration=1',
      });
      await api.check(401, 'POST', '/create', { key: false });

      expect(created.headers.get('location')).toBe(`/status/${created.body.id}`);
      expect(replayed.headers.get('idempotent-replayed')).toBe('true');
    });

    it('should describe GET /status/:id: a job, a held job and refusals', async () => {
      const api = await setUp();
      const running = await api.jobs.createOk();
      const soon = await api.jobs.createOk({ duration: 50 });

      await api.check(200, 'GET', `/status/${running.id}`);
      const held = await api.check<Job>(200, 'GET', `/status/${soon.id}`, {
        headers: { Prefer: 'wait=5' },
      });
      await api.check(404, 'GET', `/status/${UNKNOWN_ID}`);
      await api.check(400, 'GET', '/status/abc');
      await api.check(400, 'GET', `/status/${running.id}`, { query: { revision: 'x' } });
      await api.check(401, 'GET', `/status/${running.id}`, { key: false });

      expect(held.body.status).toBe('completed');
      expect(held.headers.get('preference-applied')).toBe('wait=5');
    });

    it('should describe GET /status: the batch, the catch-up and the stream', async () => {
      const api = await setUp();
      const job = await api.jobs.createOk();

      const batch = await api.check<Batch>(200, 'GET', '/status', {
        query: { ids: `${job.id},${UNKNOWN_ID}` },
      });
      await api.check(200, 'GET', '/status');
      await api.check(400, 'GET', '/status', { query: { ids: '1,,x' } });
      const caughtUp = await api.check<CatchUp>(200, 'GET', '/status', {
        query: { after: job.eventId! },
      });
      await api.check(410, 'GET', '/status', { query: { after: '9'.repeat(16) } });
      await api.check(400, 'GET', '/status', { query: { after: 'latest' } });
      await api.check(200, 'GET', '/status', { headers: { Accept: 'text/event-stream' } });
      await api.check(401, 'GET', '/status', { key: false });

      expect(batch.body.missing).toEqual([Number(UNKNOWN_ID)]);
      expect(caughtUp.body.events.length).toBeGreaterThan(0);
    });

    it('should describe POST /cancel/:id', async () => {
      const api = await setUp();
      const job = await api.jobs.createOk();

      await api.check(200, 'POST', `/cancel/${job.id}`);
      await api.check(409, 'POST', `/cancel/${job.id}`);
      await api.check(404, 'POST', `/cancel/${UNKNOWN_ID}`);
      await api.check(400, 'POST', '/cancel/0');
      await api.check(401, 'POST', `/cancel/${job.id}`, { key: false });
      // A route that takes no body still reads one sent.
      await api.check(415, 'POST', `/cancel/${job.id}`, {
        headers: { 'Content-Type': 'text/plain' },
        body: 'now',
      });
      await api.check(413, 'POST', `/cancel/${job.id}`, { body: { note: 'x'.repeat(5000) } });
    });

    it('should describe the webhook routes: deliveries, a retry and the secret', async () => {
      const api = await setUp();
      const plain = await api.jobs.createOk();
      const hooked = await api.jobs.createOk({ duration: 0, webhook: (await startReceiver()).url });
      const deliveries = (id: number): string => `/status/${id}/deliveries`;
      const delivered = await vi.waitFor(
        async () => {
          const { body } = await requestJson<{ attempts: { deliveryId: string }[] }>(
            api.jobs.url(deliveries(hooked.id)),
            { headers: { Authorization: `Bearer ${API_KEY}` } },
          );
          if (body.attempts.length === 0) throw new Error('no attempt yet');
          return body.attempts[0]!.deliveryId;
        },
        { timeout: 5000, interval: 20 },
      );

      await api.check(200, 'GET', deliveries(plain.id));
      await api.check(200, 'GET', deliveries(hooked.id));
      await api.check(404, 'GET', deliveries(Number(UNKNOWN_ID)));
      await api.check(401, 'GET', deliveries(plain.id), { key: false });
      await api.check(202, 'POST', `${deliveries(hooked.id)}/${delivered}/retry`);
      await api.check(404, 'POST', `${deliveries(hooked.id)}/${crypto.randomUUID()}/retry`);
      await api.check(200, 'GET', '/webhooks/secret');
      await api.check(200, 'POST', '/webhooks/secret/rotate');
    });

    it('should describe GET /health, which needs no key', async () => {
      const api = await setUp();

      await api.check(200, 'GET', '/health', { key: false });
    });

    it("should describe the limits' refusals: 429 for a client, 503 for the server", async () => {
      const api = await setUp({
        RATE_LIMIT_CREATES_PER_CLIENT: '2',
        RATE_LIMIT_WAITS_PER_CLIENT: '1',
        RATE_LIMIT_WINDOW_MS: '60000',
        MAX_ACTIVE_JOBS_PER_CLIENT: '1',
        MAX_ACTIVE_JOBS: '2',
        MAX_STREAMS_PER_CLIENT: '1',
        MAX_STREAMS: '2',
      });
      const [other, third] = [{ uuid: newClientId() }, { uuid: newClientId() }];
      const auth = { Authorization: `Bearer ${API_KEY}` };
      const stream = { Accept: 'text/event-stream' };
      const wait = { Prefer: 'wait=1' };

      const job = await api.check<Job>(201, 'POST', '/create');
      const tooMany = await api.check(429, 'POST', '/create');
      const limited = await api.check(429, 'POST', '/create');
      await api.check(201, 'POST', '/create', { query: other });
      const full = await api.check(503, 'POST', '/create', { query: third });
      await api.check(200, 'POST', `/cancel/${job.body.id}`);
      await api.check(200, 'GET', `/status/${job.body.id}`, { headers: wait });
      await api.check(429, 'GET', `/status/${job.body.id}`, { headers: wait });
      await api.check(429, 'GET', '/status', { query: { ids: `${job.body.id}` }, headers: wait });
      expect((await openSse(api.jobs.url('/status'), auth)).status).toBe(200);
      const streams = await api.check(429, 'GET', '/status', { headers: stream });
      expect((await openSse(api.jobs.url('/status', other), auth)).status).toBe(200);
      const serverStreams = await api.check(503, 'GET', '/status', {
        query: third,
        headers: stream,
      });

      expect([tooMany, limited, full, streams, serverStreams].map(({ body }) => body.code)).toEqual(
        [
          'TOO_MANY_JOBS',
          'RATE_LIMITED',
          'SERVER_JOBS_FULL',
          'TOO_MANY_STREAMS',
          'SERVER_STREAMS_FULL',
        ],
      );
    });

    it('should find the answers the document does not allow', async () => {
      const api = await setUp();
      const created = await api.check<Job>(201, 'POST', '/create');
      const answer = (changes: Partial<Exchange>): Exchange => ({ ...created, ...changes });
      const body = (changes: Record<string, unknown>): Exchange =>
        answer({ text: JSON.stringify({ ...created.body, ...changes }) });
      const headers = (name: string, value: string | undefined): Exchange => {
        const changed = new Headers(created.headers);
        if (value === undefined) changed.delete(name);
        else changed.set(name, value);
        return answer({ headers: changed });
      };

      const problems = [
        body({ id: String(created.body.id) }),
        body({ status: 'queued' }),
        body({ eventId: undefined }),
        headers('Location', undefined),
        headers('X-Next-Poll-Ms', 'soon'),
        headers('Content-Type', 'text/plain'),
        answer({ text: '' }),
        answer({ status: 418 }),
        answer({ method: 'DELETE' }),
        answer({ url: `${new URL(created.url).origin}/nowhere` }),
      ].map((exchange) => api.problems(exchange));

      expect(problems).toEqual([
        [expect.stringMatching(/^POST \/create 201: body it\/id must be number; it was \{/)],
        [
          expect.stringMatching(
            /^POST \/create 201: body it\/status must be equal to one of the allowed values/,
          ),
        ],
        [
          expect.stringMatching(
            /^POST \/create 201: body it must have required property 'eventId'/,
          ),
        ],
        ['POST /create 201: required header Location missing'],
        ['POST /create 201: header X-Next-Poll-Ms: "soon" it must be integer'],
        ['POST /create 201: a body of text/plain, documented: application/json'],
        ['POST /create 201: no body, but the document describes one'],
        [expect.stringMatching(/^POST \/create 418: status not documented \(only /)],
        ['DELETE /create: not an operation of the document'],
        ['POST /nowhere: no path of the document matches'],
      ]);
    });
  });
});
