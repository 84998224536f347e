import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer, type RunningServer } from 'heygen-test-support';
import { HeyGenAPI, HeyGenStatusListenerMode, type FetchLike } from '../src/index.js';

// The library against the real heygen-api (built dist) with a rate limit on: `429 RATE_LIMITED`
// with `Retry-After` is waited out, not surfaced (issue 13).

let server: RunningServer | undefined;
let sut: HeyGenAPI | undefined;

afterEach(async () => {
  sut?.dispose();
  await server?.stop('SIGKILL');
});

describe('against a server with RATE_LIMIT_CREATES_PER_CLIENT', () => {
  it('should wait what Retry-After says, then create the job', async () => {
    server = await startTestServer({
      RATE_LIMIT_CREATES_PER_CLIENT: '1',
      RATE_LIMIT_WINDOW_MS: '1000',
    });
    const answers: { status: number; retryAfter: string | null; at: number }[] = [];
    const recording: FetchLike = async (url, init) => {
      const response = await fetch(url, init as RequestInit);
      if (url.includes('/create')) {
        answers.push({
          status: response.status,
          retryAfter: response.headers.get('retry-after'),
          at: Date.now(),
        });
      }
      return response;
    };
    sut = new HeyGenAPI({ url: server.url, mode: HeyGenStatusListenerMode.POLL, fetch: recording });

    const first = await sut.createJob();
    const second = await sut.createJob();

    expect(second).toBeGreaterThan(first);
    expect(answers.map(({ status }) => status)).toEqual([201, 429, 201]);
    // The retry came no sooner than the server asked.
    const retryAfterMs = Number(answers[1]!.retryAfter) * 1000;
    expect(retryAfterMs).toBeGreaterThanOrEqual(1000);
    expect(answers[2]!.at - answers[1]!.at).toBeGreaterThanOrEqual(retryAfterMs - 50);
  });
});
