import { setTimeout as sleep } from 'node:timers/promises';
import { HeyGenAPI, type Job } from 'heygen-lib';
import { startProxy, type Proxy } from 'heygen-test-support/proxy';
import { type CliOptions } from './args.js';
import { type Cleanup } from './cleanup.js';
import { ConnectionWatch } from './connection.js';
import { type Deployment, type InstanceInfo } from './deployment.js';
import { startInstances } from './instances.js';
import { type Logger } from './logger.js';
import { buildReport, type RunReport } from './report.js';
import { RequestLog } from './requests.js';
import { disruptionJob, gapBefore, SCHEDULE } from './schedule.js';
import { checkServer, startServer } from './server.js';
import { JobTracker } from './track.js';
import { type WebhookReceiver } from './webhook-receiver.js';
import {
  fetchWebhookSecret,
  refusedWebhookMessage,
  startWebhookReceiver,
  webhookServerEnv,
} from './webhooks.js';

export interface RunContext {
  options: CliOptions;
  log: Logger;
  cleanup: Cleanup;
  /**
   * Aborted by a stop signal: the run starts nothing more (no further server, proxy or client,
   * no next job, no heal) and fails with an `AbortError`.
   */
  signal: AbortSignal;
  /** Every newer version of a job, for the live display. */
  onProgress?: (job: Job) => void;
}

/**
 * The integration run, as a story: start the server behind a proxy (or, with --instances, Redis
 * and several servers behind a round-robin proxy), create the jobs on schedule, break the network
 * after the third (cut the stream, or kill the instance holding it) and heal it 1.5 s later,
 * wait for every job, report. With --webhook, a receiver of the run's own gets each job's final
 * state from the server too, signed, and the report sets its delay beside the client's.
 */
export async function run({
  options,
  log,
  cleanup,
  signal,
  onProgress,
}: RunContext): Promise<RunReport> {
  const receiver = options.webhook ? await startWebhookReceiver(log, cleanup) : undefined;
  signal.throwIfAborted();
  const env = { ...process.env, ...(receiver && webhookServerEnv(options.instances)) };
  const deployment =
    options.instances > 1
      ? await startInstances({
          count: options.instances,
          jobTime: options.jobTime,
          streams: options.mode !== 'poll',
          log,
          cleanup,
          env,
          signal,
        })
      : await startSingle(options, log, cleanup, env, signal);
  signal.throwIfAborted();
  const connection = new ConnectionWatch();
  const heygen = connectClient(deployment.url, options, log, cleanup, connection);
  const serverUrl = deployment.instances()[0]!.url;
  if (receiver) {
    receiver.secret = await fetchWebhookSecret(
      serverUrl,
      heygen.clientId,
      SCHEDULE.callTimeoutMs,
      options.apiKey,
    );
    signal.throwIfAborted();
    log.log('heygen-cli', 'webhook signing secret read from GET /webhooks/secret');
  }
  const tracker = new JobTracker(heygen, connection, log, {
    requests: deployment.requests,
    logInstances: options.instances > 1,
  });

  const waits: Array<Promise<unknown>> = [];
  let unfinished = 0;
  /** When the last job settled: from then on nothing is watched, and no stream is opened. */
  let lastSettledAt = 0;
  let healing: Promise<void> | undefined;
  let healedAt = Infinity;
  let unfinishedAtHeal = 0;
  for (let n = 1; n <= options.jobs; n++) {
    await sleep(gapBefore(n), undefined, { signal });
    const id = await heygen
      .createJob({
        timeout: SCHEDULE.callTimeoutMs,
        // Asked of the server when given, not left to its JOB_TIME: with --url that is someone
        // else's.
        ...(options.jobTimeGiven && { duration: options.jobTime }),
        ...(options.fail.includes(n) && { fail: true }),
        ...(receiver && { webhook: receiver.urlFor(n) }),
      })
      .catch((error: unknown) => {
        const refused = refusedWebhookMessage(error, options.url ?? serverUrl);
        throw refused ? new Error(refused, { cause: error }) : error;
      });
    signal.throwIfAborted();
    const createdOn = deployment.requests.lastCreate();
    log.log('heygen-cli', `job ${id} created`, {
      n,
      ...(options.instances > 1 && { instance: createdOn }),
    });
    tracker.watch(id, Date.now(), createdOn);
    unfinished += 1;
    waits.push(
      waitFor(heygen, tracker, id, options, onProgress).finally(() => {
        unfinished -= 1;
        lastSettledAt = Date.now();
      }),
    );
    if (options.drop && n === disruptionJob(options.jobs)) {
      await deployment.disrupt(n);
      signal.throwIfAborted();
      // Healed on its own schedule while the creations go on; not after a stop (a restarted
      // instance would outlive the run).
      healing = sleep(SCHEDULE.healAfterBreakMs, undefined, { signal }).then(async () => {
        await deployment.heal();
        healedAt = Date.now();
        unfinishedAtHeal = unfinished;
      });
      // Its failure is the run's, where it is awaited below; not an unhandled rejection meanwhile.
      healing.catch(() => {});
    }
  }
  await healing;

  await Promise.all(waits);
  signal.throwIfAborted();
  // After the disruption, a stream must open again: back from polling (fallback), or reconnected.
  // A cut refuses streams until the heal; after a kill, a stream asked for after it (the one being
  // opened as the instance died may still have reported open). It can only be seen while a job is
  // still watched: an idle library keeps no connection.
  const kill = deployment.kill;
  const nextStream = kill && deployment.requests.firstStreamSince(kill.at);
  const streamAgainSince = kill ? (nextStream?.at ?? Infinity) : healedAt;
  const upgraded = (): boolean => heygen.stats().upgrades > 0;
  const streamedAgain = async (): Promise<boolean> => {
    if (options.fallback && upgraded()) return true;
    const opened =
      connection.streamOpenedSince(streamAgainSince) ||
      (connection.active && (await connection.streaming(SCHEDULE.upgradeTimeoutMs)));
    // With fallback, back from polling is the library's own upgrade: a stream opened afresh for a
    // job created once every earlier one had settled is no return (review of 2026-12-01).
    return options.fallback ? opened && upgraded() : opened;
  };
  const returnedToSse =
    options.drop &&
    options.mode !== 'poll' &&
    (!options.fallback || heygen.stats().fallbacks > 0) &&
    (await streamedAgain());
  const stats = heygen.stats();
  log.log('heygen-cli', 'all jobs settled', {
    fallbacks: stats.fallbacks,
    upgrades: stats.upgrades,
  });
  if (receiver) await waitForWebhooks(receiver, tracker, log);
  return buildReport({
    // With --url and no --job-time the server's own: as its jobs said (the report said 3000).
    jobTime: ownJobTime(options) ? options.jobTime : (tracker.jobTime() ?? options.jobTime),
    mode: options.mode,
    jobs: tracker.results().map((job) => {
      const webhook = receiver?.receipt(job.id);
      return webhook ? { ...job, webhook } : job;
    }),
    ...(receiver && { webhooks: { url: receiver.url, ...receiver.totals() } }),
    totals: stats,
    instances: deployment.instances().map((instance) => ({
      ...instance,
      ...deployment.requests.countFor(instance.name),
    })),
    disruption: {
      dropped: options.drop,
      fallback: options.fallback,
      fellBack: stats.fallbacks > 0,
      returnedToSse,
      unfinishedAtHeal,
      ...(Number.isFinite(healedAt) && {
        settledAfterHealMs: Math.max(0, lastSettledAt - healedAt),
      }),
      ...(kill && {
        kill: { ...kill, ...(nextStream && { streamMovedTo: nextStream.instance }) },
      }),
    },
  });
}

/** One heygen-api (started, or the one given with --url) behind the disruption proxy. */
async function startSingle(
  options: CliOptions,
  log: Logger,
  cleanup: Cleanup,
  env: Record<string, string | undefined>,
  signal: AbortSignal,
): Promise<Deployment> {
  const { url: serverUrl, pid: serverPid } = await startOrUseServer(
    options,
    log,
    cleanup,
    env,
    signal,
  );
  const proxy = await startDisruptionProxy(serverUrl, log, cleanup);
  signal.throwIfAborted();
  const requests = new RequestLog();
  proxy.onRequest((line, stream) => requests.add(line, stream, 'api-1'));
  const { port } = new URL(serverUrl);
  const instance: InstanceInfo = {
    name: 'api-1',
    url: serverUrl,
    port: Number(port || 80),
    ...(serverPid !== undefined && { pid: serverPid }),
  };
  return {
    url: proxy.url,
    requests,
    instances: () => [instance],
    disrupt: () => Promise.resolve(disruptNetwork(proxy, log)),
    heal: () => Promise.resolve(healNetwork(proxy, log)),
  };
}

async function startOrUseServer(
  options: CliOptions,
  log: Logger,
  cleanup: Cleanup,
  env: Record<string, string | undefined>,
  signal: AbortSignal,
): Promise<{ url: string; pid?: number }> {
  if (options.url) {
    log.log('heygen-cli', 'using a running heygen-api', { url: options.url });
    await checkServer(options.url, SCHEDULE.callTimeoutMs);
    signal.throwIfAborted();
    return { url: options.url };
  }
  log.log('heygen-cli', 'starting heygen-api', { jobTime: options.jobTime });
  const server = await startServer({
    jobTime: options.jobTime,
    port: options.port,
    log,
    env,
    // Deferred at once: an interrupt while it starts must stop it too.
    onSpawn: (stop) => cleanup.defer(stop),
  });
  signal.throwIfAborted();
  log.log('heygen-cli', 'heygen-api is ready', { url: server.url, pid: server.pid });
  return { url: server.url, pid: server.pid };
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
    ...(options.apiKey !== undefined && { apiKey: options.apiKey }),
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
      // The server's own job time is not known: its limit (MAX_JOB_TIME_MS, a day by default)
      // bounds the wait (review of 2026-12-01: jobs of 40 s failed after 33 s, as timed out).
      timeout:
        (ownJobTime(options) ? options.jobTime : SCHEDULE.longestServerJobMs) + SCHEDULE.jobGraceMs,
      ...(onProgress && { onProgress }),
    });
  } catch (error) {
    tracker.fail(id, error);
  }
}

/**
 * The jobs are settled; their final webhooks may still be on the way (job 1's retry comes a
 * second after its refused first attempt). Bounded: a missing webhook is the report's to name.
 */
async function waitForWebhooks(
  receiver: WebhookReceiver,
  tracker: JobTracker,
  log: Logger,
): Promise<void> {
  const ids = tracker.results().map((job) => job.id);
  if (await receiver.waitFor(ids, SCHEDULE.webhookGraceMs)) {
    log.log('heygen-cli', 'every final webhook arrived', { ...receiver.totals() });
    return;
  }
  const missing = ids.filter((id) => receiver.receipt(id)?.receivedAt === undefined);
  log.error(
    'heygen-cli',
    `no final webhook within ${SCHEDULE.webhookGraceMs} ms for job ${missing.join(', ')}`,
  );
}

function disruptNetwork(proxy: Proxy, log: Logger): void {
  proxy.setMode('cut-streams');
  log.log('heygen-cli', 'network change: the proxy cuts the event stream and refuses new ones');
}

function healNetwork(proxy: Proxy, log: Logger): void {
  proxy.setMode('pass');
  log.log('heygen-cli', 'network healed: the proxy lets event streams through again');
}

/** Whether the jobs take the run's JOB_TIME: its own server's, or asked of a --url server. */
function ownJobTime(options: CliOptions): boolean {
  return options.jobTimeGiven || options.url === undefined;
}
