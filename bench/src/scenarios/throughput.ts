import autocannon from 'autocannon';
import { pooled, send, warmUp } from '../http.js';
import { REFERENCE_ENTRY, startServer, type StartOptions } from '../server.js';

export type ThroughputRoute = 'POST /create' | 'GET /status/:id';

export interface ThroughputOptions {
  route: ThroughputRoute;
  /** heygen-api, or the bare node:http reference server that shows the machine's ceiling. */
  server?: 'heygen-api' | 'reference';
  connections: number;
  durationS: number;
  /** A first autocannon run of this length warms the route up; only the second is reported. */
  warmUpS: number;
  jobTimeMs: number;
  profile?: Pick<StartOptions, 'cpuProfDir' | 'cpuProfName'>;
}

export interface ThroughputResult {
  route: ThroughputRoute;
  server: 'heygen-api' | 'reference';
  connections: number;
  durationS: number;
  requestsPerS: number;
  latencyMs: { p50: number; p99: number; max: number };
  /** Connection errors and timeouts, and answers that were not 2xx. */
  errors: number;
  non2xx: number;
}

/**
 * Scenario 3: autocannon against one route on a fresh server. Each connection is its own client
 * (uuid): 50 clients stay far below MAX_ACTIVE_JOBS_PER_CLIENT, with no limit raised.
 */
export async function runThroughput({
  route,
  server: target = 'heygen-api',
  connections,
  durationS,
  warmUpS,
  jobTimeMs,
  profile,
}: ThroughputOptions): Promise<ThroughputResult> {
  const server = await startServer({
    env: { JOB_TIME: String(jobTimeMs) },
    ...(target === 'reference' ? { entry: REFERENCE_ENTRY } : profile),
  });
  const reference = target === 'reference';
  try {
    if (!reference) await warmUp(server.url);
    const uuids = Array.from({ length: connections }, () => crypto.randomUUID());
    // GET polls a running job of its own client: the hint header is computed on every answer.
    const jobIds: number[] = [];
    if (route === 'GET /status/:id' && !reference) {
      await pooled(connections, 8, async (index) => {
        const { body } = await send(
          `${server.url}/create?uuid=${uuids[index]}`,
          'POST',
          JSON.stringify({ duration: 600_000 }),
        );
        jobIds[index] = (JSON.parse(body) as { id: number }).id;
      });
    }
    let next = 0;
    const pathFor = (index: number): string =>
      route === 'POST /create'
        ? `/create?uuid=${uuids[index]}`
        : `/status/${jobIds[index]}?uuid=${uuids[index]}`;
    const method = route === 'POST /create' ? 'POST' : 'GET';
    const run = (seconds: number): Promise<autocannon.Result> =>
      autocannon({
        url: server.url,
        connections,
        duration: seconds,
        // One client per connection; a static request per connection keeps autocannon cheap.
        setupClient: (client) =>
          client.setRequests([{ method, path: pathFor(next++ % connections) }]),
      });
    if (warmUpS > 0) await run(warmUpS);
    next = 0;
    const result = await run(durationS);
    return {
      route,
      server: target,
      connections,
      durationS,
      requestsPerS: Math.round(result['2xx'] / result.duration),
      latencyMs: {
        p50: result.latency.p50,
        p99: result.latency.p99,
        max: result.latency.max,
      },
      errors: result.errors + result.timeouts,
      non2xx: result.non2xx,
    };
  } finally {
    await server.stop();
  }
}
