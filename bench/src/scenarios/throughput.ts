import { pooled, send, warmUp } from '../http.js';
import { measureLoad } from '../load.js';
import {
  REFERENCE_ENTRY,
  REFERENCE_EXPRESS_ENTRY,
  startServer,
  type StartOptions,
} from '../server.js';

export type ThroughputRoute = 'POST /create' | 'GET /status/:id';

/**
 * What scenario 3 measures, alternated in one run (issue 10): heygen-api on each HTTP adapter, a
 * bare Express 5 route (the floor of any Express app) and bare node:http (the machine's ceiling).
 */
export type ThroughputServer =
  | 'heygen-api/fastify'
  | 'heygen-api/express'
  | 'express'
  | 'node:http'
  /** On Fastify with JOBS_DRIVER=redis (scenario 7, issue 9): needs `redisUrl`. */
  | 'heygen-api/redis'
  /** The same with RUNNER_CONCURRENCY=0: HTTP only, another instance runs the jobs. */
  | 'heygen-api/redis-http-only';

export const THROUGHPUT_SERVERS: readonly ThroughputServer[] = [
  'heygen-api/fastify',
  'heygen-api/express',
  'express',
  'node:http',
];

export interface ThroughputOptions {
  route: ThroughputRoute;
  server?: ThroughputServer;
  connections: number;
  durationS: number;
  /** A first autocannon run of this length warms the route up; only the second is reported. */
  warmUpS: number;
  jobTimeMs: number;
  profile?: Pick<StartOptions, 'cpuProfDir' | 'cpuProfName'>;
  /** The Redis of `heygen-api/redis`. */
  redisUrl?: string;
}

/** How a scenario runs throughput: autocannon's settings, and how many turns the servers take. */
export interface ThroughputRounds {
  connections: number;
  durationS: number;
  warmUpS: number;
  jobTimeMs: number;
  /** How many times the servers take turns on each route. */
  rounds: number;
}

export interface ThroughputResult {
  route: ThroughputRoute;
  server: ThroughputServer;
  /** Which alternation this run belongs to (1 for the first). */
  round: number;
  connections: number;
  durationS: number;
  requestsPerS: number;
  /** requests/s over bare node:http's on the same route in the same round. */
  ratioToNode?: number;
  latencyMs: { p50: number; p99: number; max: number };
  /** Connection errors and timeouts, and answers that were not 2xx. */
  errors: number;
  non2xx: number;
}

const ENTRIES: Partial<Record<ThroughputServer, string>> = {
  express: REFERENCE_EXPRESS_ENTRY,
  'node:http': REFERENCE_ENTRY,
};

/**
 * Scenario 3: autocannon against one route on a fresh server. Each connection is its own client
 * (uuid): 50 clients stay far below MAX_ACTIVE_JOBS_PER_CLIENT, with no limit raised.
 */
export async function runThroughput({
  route,
  server: target = 'heygen-api/fastify',
  connections,
  durationS,
  warmUpS,
  jobTimeMs,
  profile,
  redisUrl,
}: ThroughputOptions): Promise<Omit<ThroughputResult, 'round'>> {
  const entry = ENTRIES[target];
  const reference = entry !== undefined;
  const redis = target === 'heygen-api/redis' || target === 'heygen-api/redis-http-only';
  if (redis && redisUrl === undefined) throw new Error('no redisUrl');
  // HTTP only: a worker instance of its own runs the jobs.
  const worker =
    target === 'heygen-api/redis-http-only'
      ? await startServer({ env: { JOBS_DRIVER: 'redis', REDIS_URL: redisUrl! } })
      : undefined;
  const server = await startServer({
    env: {
      JOB_TIME: String(jobTimeMs),
      HTTP_ADAPTER: target === 'heygen-api/express' ? 'express' : 'fastify',
      ...(redis && { JOBS_DRIVER: 'redis', REDIS_URL: redisUrl! }),
      ...(worker && { RUNNER_CONCURRENCY: '0' }),
    },
    ...(reference ? { entry } : profile),
  });
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
    const result = await measureLoad({
      url: server.url,
      connections,
      durationS,
      warmUpS,
      requestFor: (index) =>
        route === 'POST /create'
          ? { method: 'POST', path: `/create?uuid=${uuids[index]}` }
          : { method: 'GET', path: `/status/${jobIds[index] ?? 1}?uuid=${uuids[index]}` },
    });
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
    await Promise.all([server.stop(), worker?.stop()]);
  }
}

/** Each run's ratio to bare node:http on the same route and round. */
export function withRatios(results: ThroughputResult[]): ThroughputResult[] {
  return results.map((r) => {
    const node = results.find(
      (o) => o.server === 'node:http' && o.route === r.route && o.round === r.round,
    );
    return node && node.requestsPerS > 0
      ? { ...r, ratioToNode: Math.round((r.requestsPerS / node.requestsPerS) * 100) / 100 }
      : r;
  });
}
