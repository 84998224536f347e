import { startRedis } from 'heygen-test-support/redis';
import { availableParallelism, loadavg } from 'node:os';
import { runBundleSize, type BundleSizeResult } from './scenarios/bundle-size.js';
import {
  modeName,
  runDelayCost,
  type DelayCostResult,
  type DelayMode,
} from './scenarios/delay-cost.js';
import { runFanOut, type FanOutResult } from './scenarios/fan-out.js';
import { runIdleCost, type IdleCostOptions, type IdleCostResult } from './scenarios/idle-cost.js';
import {
  runRedisScale,
  type RedisScaleOptions,
  type RedisScaleResult,
} from './scenarios/redis-scale.js';
import {
  runRetainedMemory,
  type RetainedMemoryOptions,
  type RetainedMemoryResult,
} from './scenarios/retained-memory.js';
import {
  runSlowloris,
  type SlowlorisOptions,
  type SlowlorisResult,
} from './scenarios/slowloris.js';
import { runSoak, type SoakOptions, type SoakResult } from './scenarios/soak.js';
import { runWebhooks, type WebhooksOptions, type WebhooksResult } from './scenarios/webhooks.js';
import {
  runTabHandover,
  type TabHandoverOptions,
  type TabHandoverResult,
} from './scenarios/tab-handover.js';
import {
  runThroughput,
  THROUGHPUT_SERVERS,
  withRatios,
  type ThroughputResult,
  type ThroughputRounds,
  type ThroughputRoute,
} from './scenarios/throughput.js';

/** How big each scenario runs: `full` is the issue's, `smoke` proves the code runs in seconds. */
export interface Scale {
  delay: { jobs: number; jobTimeMs: number; listenWindowMs: number };
  fanOut: { streams: number[]; jobTimeMs: number; createWindowMs: number };
  throughput: ThroughputRounds;
  idleCost: IdleCostOptions;
  retainedMemory: RetainedMemoryOptions;
  redisScale: RedisScaleOptions;
  tabHandover: TabHandoverOptions;
  soak: SoakOptions;
  slowloris: SlowlorisOptions;
  webhooks: WebhooksOptions;
}

export const SCALES = {
  full: {
    delay: { jobs: 200, jobTimeMs: 1000, listenWindowMs: 1000 },
    fanOut: { streams: [5000, 10_000], jobTimeMs: 2000, createWindowMs: 1500 },
    throughput: { connections: 50, durationS: 8, warmUpS: 2, jobTimeMs: 1000, rounds: 2 },
    idleCost: {
      jobs: 10_000,
      measureS: 5,
      pipelinedSockets: 1500,
      jobFloodS: 5,
      stuckStreams: 8,
      settleS: 20,
    },
    retainedMemory: {
      jobs: 200_000,
      floodS: 60,
      cap: 200_000,
      retentionS: 20,
      settleS: 12,
      connections: 50,
    },
    redisScale: {
      fanOut: { streams: 5000, jobTimeMs: 2000, createWindowMs: 1500 },
      throughput: { connections: 50, durationS: 8, warmUpS: 2, jobTimeMs: 1000, rounds: 2 },
      roundTripJobs: 500,
      failover: { streams: 1000, jobTimeMs: 8000 },
    },
    tabHandover: { pages: 3, handovers: 20, jobTimeMs: 2000 },
    soak: {
      minutes: 10,
      sampleS: 10,
      createsPerS: 20,
      busyCreatesPerS: 20,
      streams: 20,
      slowReaders: 3,
      slowReaderStallS: 60,
      chartFile: 'docs/soak.svg',
    },
    // 40 s of attack: four rounds of the server's 10 s HEADERS_TIMEOUT_MS.
    slowloris: { connections: 2000, jobTimeMs: 1000, idleRounds: 10, attackS: 40 },
    webhooks: {
      jobs: 1000,
      jobTimeMs: 1000,
      createWindowMs: 1000,
      throughput: { connections: 50, durationS: 8, warmUpS: 2, rounds: 2 },
    },
  },
  smoke: {
    delay: { jobs: 10, jobTimeMs: 300, listenWindowMs: 200 },
    fanOut: { streams: [20], jobTimeMs: 300, createWindowMs: 100 },
    // Short jobs and 8 clients: each client stays far below MAX_ACTIVE_JOBS_PER_CLIENT at
    // Fastify's create rate (4 clients of 300 ms jobs passed 1,000 active each and got 429s).
    throughput: { connections: 8, durationS: 1, warmUpS: 0, jobTimeMs: 100, rounds: 1 },
    idleCost: {
      jobs: 200,
      measureS: 1,
      pipelinedSockets: 20,
      jobFloodS: 0.5,
      stuckStreams: 2,
      settleS: 2,
    },
    retainedMemory: {
      jobs: 300,
      floodS: 1,
      // At least the warm-up's unfinished jobs: MAX_ACTIVE_JOBS follows it down.
      cap: 1000,
      retentionS: 1,
      settleS: 0.5,
      connections: 8,
    },
    redisScale: {
      fanOut: { streams: 20, jobTimeMs: 300, createWindowMs: 100 },
      throughput: { connections: 8, durationS: 1, warmUpS: 0, jobTimeMs: 100, rounds: 1 },
      // Enough that BullMQ's idle commands, taken off, do not swamp the jobs' own.
      roundTripJobs: 200,
      failover: { streams: 10, jobTimeMs: 1000, runnerLockMs: 1000 },
    },
    tabHandover: { pages: 2, handovers: 3, jobTimeMs: 2000 },
    soak: {
      minutes: 1,
      sampleS: 10,
      createsPerS: 20,
      busyCreatesPerS: 20,
      streams: 20,
      slowReaders: 3,
      slowReaderStallS: 40,
    },
    // A 2 s headers timeout, so the server closes connections within the smoke run's 5 s.
    slowloris: {
      connections: 200,
      jobTimeMs: 300,
      idleRounds: 3,
      attackS: 5,
      headersTimeoutMs: 2000,
    },
    webhooks: {
      jobs: 20,
      jobTimeMs: 300,
      createWindowMs: 100,
      throughput: { connections: 8, durationS: 1, warmUpS: 0, rounds: 1 },
    },
  },
} satisfies Record<string, Scale>;

export type Scenario = 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 | 10 | 11;

export interface SuiteOptions {
  scale: Scale;
  scenarios: ReadonlySet<Scenario>;
  /** Write `node --cpu-prof` profiles of the server in scenarios 2 and 3 here. */
  profileDir?: string;
  /** The driver of scenario 9's server: redis runs it on a redis-server of the bench's own. */
  soakDriver?: 'memory' | 'redis';
  log?: (line: string) => void;
}

export interface SuiteResult {
  date: string;
  node: string;
  cpus: number;
  /** 1-minute load average when the run began: figures from a busy machine are not comparable. */
  loadAverage: number;
  delayCost: DelayCostResult[];
  fanOut: FanOutResult[];
  throughput: ThroughputResult[];
  bundle?: BundleSizeResult;
  idleCost?: IdleCostResult;
  retainedMemory?: RetainedMemoryResult;
  redisScale?: RedisScaleResult;
  tabHandover?: TabHandoverResult;
  soak?: SoakResult;
  slowloris?: SlowlorisResult;
  webhooks?: WebhooksResult;
}

/**
 * The modes of scenario 1: the library's defaults, its plain hinted poller, and the seed's fixed
 * intervals.
 */
export const DELAY_MODES: DelayMode[] = [
  // The library's defaults: no option but url and mode. POLL holds each poll on the server
  // (`Prefer: wait`) until a job finishes.
  { kind: 'sse' },
  { kind: 'poll' },
  // Held waits off: plain polling following the hints, within the default budget (never more
  // than one request a second, whatever the hint)...
  { kind: 'poll', wait: false },
  // ...and with a 10 ms minimum interval, which only bounds how often it may ask.
  { kind: 'poll', wait: false, pollInterval: 10 },
  { kind: 'poll-fixed', pollInterval: 1000 },
  { kind: 'poll-fixed', pollInterval: 250 },
];

const ROUTES: ThroughputRoute[] = ['POST /create', 'GET /status/:id'];

/** Runs the chosen scenarios one after another, each on its own fresh server. */
export async function runSuite({
  scale,
  scenarios,
  profileDir,
  soakDriver = 'memory',
  log = () => {},
}: SuiteOptions): Promise<SuiteResult> {
  const result: SuiteResult = {
    date: new Date().toISOString(),
    node: process.version,
    cpus: availableParallelism(),
    loadAverage: Math.round(loadavg()[0]! * 100) / 100,
    delayCost: [],
    fanOut: [],
    throughput: [],
  };
  const profile = (name: string): { cpuProfDir?: string; cpuProfName?: string } =>
    profileDir ? { cpuProfDir: profileDir, cpuProfName: `${name}.cpuprofile` } : {};

  if (scenarios.has(1)) {
    for (const mode of DELAY_MODES) {
      log(`scenario 1: ${modeName(mode)}`);
      result.delayCost.push(await runDelayCost(mode, scale.delay));
    }
  }
  if (scenarios.has(2)) {
    for (const streams of scale.fanOut.streams) {
      for (const adapter of ['fastify', 'express'] as const) {
        log(`scenario 2: ${streams} streams on ${adapter}`);
        result.fanOut.push(
          await runFanOut({
            ...scale.fanOut,
            streams,
            adapter,
            ...(adapter === 'fastify' && { profile: profile(`fan-out-${streams}`) }),
          }),
        );
      }
    }
  }
  if (scenarios.has(3)) {
    // The servers take turns, route by route and round by round, so that a machine that gets
    // busier or quieter during the run weighs on all of them alike (issue 10).
    const { rounds, ...options } = scale.throughput;
    const runs: ThroughputResult[] = [];
    for (let round = 1; round <= rounds; round += 1) {
      for (const route of ROUTES) {
        for (const server of THROUGHPUT_SERVERS) {
          log(`scenario 3: ${route} on ${server}, round ${round}`);
          const name = `throughput-${route === 'POST /create' ? 'create' : 'status'}`;
          // The first round of heygen-api on Fastify is the profiled one.
          const profiled = server === 'heygen-api/fastify' && round === 1;
          runs.push({
            round,
            ...(await runThroughput({
              ...options,
              route,
              server,
              ...(profiled && { profile: profile(name) }),
            })),
          });
        }
      }
    }
    result.throughput = withRatios(runs);
  }
  if (scenarios.has(4)) {
    log('scenario 4: bundle size');
    result.bundle = await runBundleSize();
  }
  if (scenarios.has(5)) {
    log('scenario 5: idle cost of running jobs, memory after floods');
    result.idleCost = await runIdleCost(scale.idleCost);
  }
  if (scenarios.has(6)) {
    log('scenario 6: memory per retained job, a create flood under MAX_RETAINED_JOBS');
    result.retainedMemory = await runRetainedMemory(scale.retainedMemory);
  }
  if (scenarios.has(7)) {
    log('scenario 7: a deployment on Redis: fan-out over two instances, create rate, failover');
    const redis = await startRedis();
    try {
      result.redisScale = await runRedisScale(scale.redisScale, redis.url);
    } finally {
      await redis.stop();
    }
  }
  if (scenarios.has(8)) {
    log('scenario 8: leader tab hand-over in headless Chromium');
    result.tabHandover = await runTabHandover(scale.tabHandover);
  }
  if (scenarios.has(9)) {
    log(`scenario 9: soak, ${scale.soak.minutes} min of mixed load on one server (${soakDriver})`);
    if (soakDriver === 'memory') result.soak = await runSoak(scale.soak);
    else {
      const redis = await startRedis();
      const { chartFile, ...soak } = scale.soak;
      try {
        result.soak = await runSoak(
          {
            ...soak,
            ...(chartFile !== undefined && {
              chartFile: chartFile.replace(/\.svg$/, '-redis.svg'),
            }),
          },
          redis.url,
        );
      } finally {
        await redis.stop();
      }
    }
  }
  if (scenarios.has(10)) {
    log(`scenario 10: slowloris, ${scale.slowloris.connections} connections held`);
    result.slowloris = await runSlowloris(scale.slowloris);
  }
  if (scenarios.has(11)) {
    log(`scenario 11: webhooks, ${scale.webhooks.jobs} jobs to a local receiver`);
    result.webhooks = await runWebhooks(scale.webhooks);
  }
  return result;
}
