import { pooled, send, warmUp } from '../http.js';
import { startServer, type BenchServer } from '../server.js';
import { round, sleep } from '../stats.js';

export interface RetainedMemoryOptions {
  /** Finished jobs the first server keeps (nothing expires during the run). */
  jobs: number;
  /** How long the create flood on the second server lasts, s. */
  floodS: number;
  /** MAX_RETAINED_JOBS of the second server. */
  cap: number;
  /** RETENTION_MS of the second server, s. */
  retentionS: number;
  /** How long to let the GC settle before a reading, s (V8's memory reducer starts after 8 s). */
  settleS: number;
  /** Requests in flight. */
  connections: number;
}

export interface RetainedMemoryResult {
  jobs: number;
  /** RSS of the first server: idle, right after the last creation, and once settled; MiB. */
  rssMiB: { idle: number; end: number; settled: number };
  /** (RSS − idle) / jobs, bytes: right after the creations and once settled. The bound is 1 KB. */
  bytesPerJob: { end: number; settled: number };
  flood: {
    seconds: number;
    cap: number;
    created: number;
    /** Creations a second over the flood. */
    rate: number;
    refused: number;
    /** RSS of the second server: idle, highest during the flood, and after retention; MiB. */
    rssMiB: { idle: number; peak: number; afterRetention: number };
    /**
     * Seconds after retention had forgotten every job until RSS was back within 25 % of idle
     * (V8 gives memory back once the process has been quiet for a while); null: not within the wait.
     */
    backNearIdleS: number | null;
    /** idle + cap × 1 KB: what MAX_RETAINED_JOBS implies at the bound, MiB. */
    boundMiB: number;
  };
}

const MiB = 1024 * 1024;
const KB = 1024;
/** Few enough jobs per client that MAX_JOBS_PER_CLIENT (2000) never evicts before the cap does. */
const PER_CLIENT = 1000;
/** How long to wait for RSS to come back after retention, in settle times. */
const RETURN_WAIT_S = 5;

/**
 * Scenario 6 (issue 10): memory per retained job, and memory bounded by MAX_RETAINED_JOBS.
 * First, one server keeps `jobs` finished zero-length jobs (retention longer than the run): its
 * RSS growth per job, right after and once the GC has settled. Then another, with
 * MAX_RETAINED_JOBS = `cap`, takes a create flood at full speed for `floodS` seconds: its RSS is
 * sampled against idle + cap × 1 KB, and read again once retention has forgotten every job.
 */
export async function runRetainedMemory(
  options: RetainedMemoryOptions,
): Promise<RetainedMemoryResult> {
  const kept = await startServer({ env: { RETENTION_MS: '3600000' } });
  let perJob: Pick<RetainedMemoryResult, 'rssMiB' | 'bytesPerJob'>;
  try {
    await warmUp(kept.url);
    await sleep(options.settleS * 1000);
    const idle = kept.rss();
    const { created } = await createJobs(kept, options, (i) => i < options.jobs);
    if (created !== options.jobs) throw new Error(`created ${created} of ${options.jobs} jobs`);
    const end = kept.rss();
    await sleep(options.settleS * 1000);
    const settled = kept.rss();
    perJob = {
      rssMiB: { idle: round(idle / MiB), end: round(end / MiB), settled: round(settled / MiB) },
      bytesPerJob: {
        end: Math.round((end - idle) / options.jobs),
        settled: Math.round((settled - idle) / options.jobs),
      },
    };
  } finally {
    await kept.stop();
  }

  const capped = await startServer({
    env: {
      MAX_RETAINED_JOBS: String(options.cap),
      // The cap must leave room for every unfinished job (config); zero-length jobs need little.
      MAX_ACTIVE_JOBS: String(Math.min(100_000, options.cap)),
      RETENTION_MS: String(options.retentionS * 1000),
    },
  });
  try {
    await warmUp(capped.url);
    await sleep(options.settleS * 1000);
    const idle = capped.rss();
    let peak = idle;
    const sampler = setInterval(() => (peak = Math.max(peak, capped.rss())), 200);
    const until = Date.now() + options.floodS * 1000;
    const flood = await createJobs(capped, options, () => Date.now() < until).finally(() =>
      clearInterval(sampler),
    );
    await sleep(options.retentionS * 1000);
    const back = await waitForRss(capped, idle * 1.25, RETURN_WAIT_S * options.settleS);
    return {
      jobs: options.jobs,
      ...perJob,
      flood: {
        seconds: options.floodS,
        cap: options.cap,
        created: flood.created,
        rate: Math.round(flood.created / options.floodS),
        refused: flood.refused,
        rssMiB: {
          idle: round(idle / MiB),
          peak: round(peak / MiB),
          afterRetention: round(back.rss / MiB),
        },
        backNearIdleS: back.afterS,
        boundMiB: round((idle + options.cap * KB) / MiB),
      },
    };
  } finally {
    await capped.stop();
  }
}

/** Samples RSS each second until it is at most `target` or `waitS` have passed; the last reading. */
async function waitForRss(
  server: BenchServer,
  target: number,
  waitS: number,
): Promise<{ rss: number; afterS: number | null }> {
  const start = Date.now();
  for (;;) {
    const rss = server.rss();
    const afterS = round((Date.now() - start) / 1000);
    if (rss <= target) return { rss, afterS };
    if (afterS >= waitS) return { rss, afterS: null };
    await sleep(1000);
  }
}

/** Creates zero-length jobs, spread over clients of PER_CLIENT, while `more(index)` says so. */
async function createJobs(
  server: BenchServer,
  { connections }: RetainedMemoryOptions,
  more: (index: number) => boolean,
): Promise<{ created: number; refused: number }> {
  const uuids: string[] = [];
  let created = 0;
  let refused = 0;
  let next = 0;
  await pooled(connections, connections, async () => {
    for (let i = next++; more(i); i = next++) {
      const uuid = (uuids[Math.floor(i / PER_CLIENT)] ??= crypto.randomUUID());
      const res = await send(`${server.url}/create?uuid=${uuid}`, 'POST', '{"duration":0}');
      if (res.status === 201) created += 1;
      else refused += 1;
    }
  });
  return { created, refused };
}
