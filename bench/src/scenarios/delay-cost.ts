import { HeyGenAPI, HeyGenStatusListenerMode, type Job } from 'heygen-lib';
import { isFinished } from 'heygen-test-support/wire';
import { pooled, send, warmUp } from '../http.js';
import { startServer } from '../server.js';
import { distribution, round, sleep, type Distribution } from '../stats.js';

/**
 * How status is tracked: the library over SSE or POLL, or the seed system's fixed-interval poller.
 * The library gets no option but `url` and `mode` beyond those given here: its defaults.
 */
export type DelayMode =
  | { kind: 'sse' }
  /** heygen-lib's POLL; `wait: false` turns held waits off (plain polling following the hints). */
  | { kind: 'poll'; pollInterval?: number; wait?: false }
  | { kind: 'poll-fixed'; pollInterval: number };

export interface DelayCostOptions {
  jobs: number;
  jobTimeMs: number;
  /** Each job is listened to at a random moment within this window after creation. */
  listenWindowMs: number;
}

export interface DelayCostResult {
  mode: string;
  jobs: number;
  /**
   * Client notified of the final status − the server's `finishedAt`, ms; from when the job was
   * listened to, for a job that finished before that (the last moments of the window).
   */
  delayMs: Distribution;
  statusRequestsPerJob: number;
  /** Response bytes (bodies, as heygen.stats() counts them) per job. */
  bytesPerJob: number;
  /** Jobs whose final status never arrived. */
  missed: number;
}

export const modeName = (mode: DelayMode): string => {
  if (mode.kind === 'sse') return 'SSE (heygen-lib, defaults)';
  if (mode.kind === 'poll-fixed') return `POLL every ${mode.pollInterval} ms, hints ignored (seed)`;
  const budget = mode.pollInterval === undefined ? 'defaults' : `min ${mode.pollInterval} ms`;
  return mode.wait === false
    ? `POLL following hints, held waits off (heygen-lib, ${budget})`
    : `POLL with held waits (heygen-lib, ${budget})`;
};

/** Notified now about a finished job that was listened to at `listenedAt`. */
const delay = (job: Job, listenedAt: number): number =>
  Date.now() - Math.max(listenedAt, Date.parse(job.finishedAt!));

/**
 * Scenario 1: `jobs` jobs created at once, each listened to at a random moment within the first
 * `listenWindowMs` of its life, tracked to its end. A fresh server per mode.
 */
export async function runDelayCost(
  mode: DelayMode,
  { jobs, jobTimeMs, listenWindowMs }: DelayCostOptions,
): Promise<DelayCostResult> {
  const server = await startServer({ env: { JOB_TIME: String(jobTimeMs) } });
  try {
    await warmUp(server.url);
    await sleep(200);
    const track = mode.kind === 'poll-fixed' ? trackFixed : trackWithLibrary;
    const { delays, requests, bytes } = await track(server.url, mode, {
      jobs,
      listenWindowMs,
      jobTimeMs,
    });
    return {
      mode: modeName(mode),
      jobs,
      delayMs: distribution(delays),
      statusRequestsPerJob: round(requests / jobs, 3),
      bytesPerJob: Math.round(bytes / jobs),
      missed: jobs - delays.length,
    };
  } finally {
    await server.stop();
  }
}

interface Tracked {
  delays: number[];
  requests: number;
  bytes: number;
}

/** One HeyGenAPI creates the jobs and listens to each; its own stats() give the cost. */
async function trackWithLibrary(
  url: string,
  mode: DelayMode,
  { jobs, listenWindowMs, jobTimeMs }: DelayCostOptions,
): Promise<Tracked> {
  const heygen = new HeyGenAPI({
    url,
    mode: mode.kind === 'sse' ? HeyGenStatusListenerMode.SSE : HeyGenStatusListenerMode.POLL,
    ...(mode.kind === 'poll' &&
      mode.pollInterval !== undefined && { pollInterval: mode.pollInterval }),
    ...(mode.kind === 'poll' && mode.wait === false && { wait: false }),
  });
  const delays: number[] = [];
  try {
    let left = jobs;
    let allDone: () => void = () => {};
    const done = new Promise<void>((resolve) => (allDone = resolve));
    const follow = async (): Promise<void> => {
      const id = await heygen.createJob();
      await sleep(Math.random() * listenWindowMs);
      const listenedAt = Date.now();
      const stop = heygen.listen(id, (_id, _status, job) => {
        if (!isFinished(job)) return;
        delays.push(delay(job, listenedAt));
        stop();
        if (--left === 0) allDone();
      });
    };
    await Promise.all(Array.from({ length: jobs }, follow));
    await Promise.race([done, sleep(jobTimeMs + listenWindowMs + 10_000)]);
    const stats = heygen.stats();
    return {
      delays,
      // Stream opens count as requests: for SSE, one for every job.
      requests: stats.poll.requests + stats.sse.requests,
      bytes: stats.poll.bytes + stats.sse.bytes,
    };
  } finally {
    heygen.dispose();
  }
}

/**
 * The seed system: every job polled on its own, `GET /status/:id` every `pollInterval` ms from
 * when it is listened to, whatever the server hints.
 */
async function trackFixed(
  url: string,
  mode: DelayMode,
  { jobs, listenWindowMs, jobTimeMs }: DelayCostOptions,
): Promise<Tracked> {
  if (mode.kind !== 'poll-fixed') throw new TypeError(mode.kind);
  const uuid = crypto.randomUUID();
  const delays: number[] = [];
  let requests = 0;
  let bytes = 0;
  const deadline = Date.now() + jobTimeMs + listenWindowMs + 10_000;
  const follow = async (): Promise<void> => {
    const { body: created } = await send(`${url}/create?uuid=${uuid}`, 'POST');
    const { id } = JSON.parse(created) as Job;
    await sleep(Math.random() * listenWindowMs);
    const start = Date.now();
    for (let tick = 1; Date.now() < deadline; tick++) {
      await sleep(start + tick * mode.pollInterval - Date.now());
      requests++;
      const { body } = await send(`${url}/status/${id}?uuid=${uuid}`);
      bytes += body.length;
      const job = JSON.parse(body) as Job;
      if (isFinished(job)) {
        delays.push(delay(job, start));
        return;
      }
    }
  };
  await pooled(jobs, jobs, follow);
  return { delays, requests, bytes };
}
