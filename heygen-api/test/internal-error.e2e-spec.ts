import { describe, expect, it, vi } from 'vitest';
import { JobsService } from '../src/jobs/jobs.service.js';
import { describeEachAdapter } from './support/adapters.js';
import { JobsClient } from './support/jobs-client.js';
import { startServer } from './support/server.js';

/** What a bug might carry in its message: none of it may reach the client. */
const SECRET = 'redis://:hunter2@10.0.0.7:6379 key heygen:jobs:secret-client';

/** The protocol's answer to an unexpected error, exactly. */
const INTERNAL_ERROR = {
  statusCode: 500,
  error: 'Internal Server Error',
  code: 'INTERNAL_ERROR',
  message: 'Internal server error',
};

describeEachAdapter(() => {
  describe('an unexpected error', () => {
    it.each([
      ['GET /status/:id', 'getOne', 'GET', '/status/1'],
      ['POST /cancel/:id', 'cancel', 'POST', '/cancel/1'],
    ] as const)(
      'should answer %s 500 INTERNAL_ERROR, its message leaking no detail',
      async (_, method, verb, path) => {
        // Logged for the operator (pino), not wanted in the test's output.
        const server = await startServer({ LOG_LEVEL: 'fatal' });
        const client = new JobsClient(server.url);
        // A bug in our own code: the service throws an Error no handler expects.
        const bug = new Error(`${SECRET} exploded`);
        vi.spyOn(server.app.get(JobsService), method).mockRejectedValue(bug);

        const res = await fetch(client.url(path), { method: verb });
        const text = await res.text();

        expect(res.status).toBe(500);
        expect(res.headers.get('content-type')).toMatch(/^application\/json/);
        expect(JSON.parse(text)).toEqual(INTERNAL_ERROR);
        // Neither the message nor the stack (where in the code) is in the body or a header.
        const answer = text + JSON.stringify([...res.headers]);
        for (const detail of ['hunter2', 'secret-client', 'exploded', 'Error:', '.ts:', '.js:']) {
          expect(answer).not.toContain(detail);
        }
        // The server is unharmed: the next request is answered as usual.
        vi.restoreAllMocks();
        expect((await client.create({})).status).toBe(201);
      },
    );
  });
});
