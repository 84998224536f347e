import { setTimeout as sleep } from 'node:timers/promises';
import { HeyGenAPI, type Job } from 'heygen-lib';
import { startProxy, type Proxy } from 'heygen-test-support/proxy';
import { type CliOptions } from './args.js';
import { type Cleanup } from './cleanup.js';
import { ConnectionWatch } from './connection.js';
import { type Logger } from './logger.js';
import { buildReport, type RunReport } from './report.js';
import { disruptionJob, gapBefore, SCHEDULE } from './schedule.js';
import { checkServer, startServer } from './server.js';
import { JobTracker } from './track.js';

export interface RunContext {
  options: CliOptions;
  log: Logger;
  cleanup: Cleanup;
  /** Every newer version of a job, for the live display. */
  onProgress?: (job: Job) => void;
}

/**
 * The integration run, as a story: start the server behind a proxy, create the jobs on schedule,
 * break the network after the third and heal it after the last, wait for every job, report.
 */
export async function run({ options, log, cleanup, onProgress }: RunContext): Promise<RunReport> {
  const serverUrl = await startOrUseServer(options, log, cleanup);
  const proxy = await startDisruptionProxy(serverUrl, log, cleanup);
  const connection = new ConnectionWatch();
  const heygen = connectClient(proxy.url, options, log, cleanup, connection);
  const tracker = new JobTracker(heygen, connection, log);

  const waits: Array<Promise<unknown>> = [];
  let unfinished = 0;
  for (let n = 1; n <= options.jobs; n++) {
    await sleep(gapBefore(n));
    const id = await heygen.createJob({
      timeout: SCHEDULE.callTimeoutMs,
      ...(options.fail.includes(n) && { fail: true }),
    });
    log.log('heygen-cli', `job ${id} created`, { n });
    tracker.watch(id, Date.now());
    unfinished += 1;
    waits.push(waitFor(heygen, tracker, id, options, onProgress).finally(() => (unfinished -= 1)));
    if (options.drop && n === disruptionJob(options.jobs)) disruptNetwork(proxy, log);
  }
  let healedAt = Infinity;
  let unfinishedAtHeal = 0;
  if (options.drop) {
    await sleep(SCHEDULE.healAfterMs);
    healNetwork(proxy, log);
    healedAt = Date.now();
    unfinishedAtHeal = unfinished;
  }

  await Promise.all(waits);
  // After the cut, a stream must open again: back from polling (fallback), or reconnected. It can
  // only be seen while a job is still watched: an idle library keeps no connection.
  const returnedToSse =
    options.drop &&
    options.mode !== 'poll' &&
    (!options.fallback || heygen.stats().fallbacks > 0) &&
    (connection.streamOpenedSince(healedAt) ||
      (connection.active && (await connection.streaming(SCHEDULE.upgradeTimeoutMs))));
  const stats = heygen.stats();
  log.log('heygen-cli', 'all jobs settled', {
    fallbacks: stats.fallbacks,
    upgrades: stats.upgrades,
  });
  return buildReport({
    jobTime: options.jobTime,
    mode: options.mode,
    jobs: tracker.results(),
    totals: stats,
    disruption: {
      dropped: options.drop,
      fallback: options.fallback,
      fellBack: stats.fallbacks > 0,
      returnedToSse,
      unfinishedAtHeal,
    },
  });
}

async function startOrUseServer(
  options: CliOptions,
  log: Logger,
  cleanup: Cleanup,
): Promise<string> {
  if (options.url) {
    log.log('heygen-cli', 'using a running heygen-api', { url: options.url });
    await checkServer(options.url, SCHEDULE.callTimeoutMs);
    return options.url;
  }
  log.log('heygen-cli', 'starting heygen-api', { jobTime: options.jobTime });
  const server = await startServer({ jobTime: options.jobTime, port: options.port, log });
  cleanup.defer(() => server.stop());
  log.log('heygen-cli', 'heygen-api is ready', { url: server.url, pid: server.pid });
  return server.url;
}

/** The library talks to the server through this proxy, so the disruption is a real network one. */
async function startDisruptionProxy(
  serverUrl: string,
  log: Logger,
  cleanup: Cleanup,
): Promise<Proxy> {
  const { hostname, port } = new URL(serverUrl);
  const proxy = await startProxy({
    target: {
      host: hostname.replace(/^\[|\]$/g, ''),
      port: Number(port || 80),
    },
  });
  cleanup.defer(() => proxy.close());
  log.log('heygen-cli', 'network proxy is up', { url: proxy.url, target: serverUrl });
  return proxy;
}

function connectClient(
  url: string,
  options: CliOptions,
  log: Logger,
  cleanup: Cleanup,
  connection: ConnectionWatch,
): HeyGenAPI {
  const heygen = new HeyGenAPI({
    url,
    mode: options.mode,
    fallback: options.fallback,
    pollInterval: options.pollInterval,
    logging: (message) => log.log('heygen-lib', message),
    onError: (error) =>
      log.error('heygen-lib', error instanceof Error ? error.message : String(error)),
    onStateChange: connection.onStateChange,
  });
  cleanup.defer(() => heygen.dispose());
  log.log('heygen-cli', 'client ready', {
    mode: options.mode,
    fallback: options.fallback,
    clientId: heygen.clientId,
  });
  return heygen;
}

async function waitFor(
  heygen: HeyGenAPI,
  tracker: JobTracker,
  id: number,
  options: CliOptions,
  onProgress?: (job: Job) => void,
): Promise<void> {
  try {
    await heygen.waitForJob(id, {
      timeout: options.jobTime + SCHEDULE.jobGraceMs,
      ...(onProgress && { onProgress }),
    });
  } catch (error) {
    tracker.fail(id, error);
  }
}

function disruptNetwork(proxy: Proxy, log: Logger): void {
  proxy.setMode('cut-streams');
  log.log('heygen-cli', 'network change: the proxy cuts the event stream and refuses new ones');
}

function healNetwork(proxy: Proxy, log: Logger): void {
  proxy.setMode('pass');
  log.log('heygen-cli', 'network healed: the proxy lets event streams through again');
}
