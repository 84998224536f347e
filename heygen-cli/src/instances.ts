import { type RunningServer } from 'heygen-test-support/server';
import { startBalancer, type Balancer } from './balancer.js';
import { type Cleanup } from './cleanup.js';
import { type Deployment, type InstanceInfo, type KillEvent } from './deployment.js';
import { type Logger } from './logger.js';
import { findRedisServer, startRedis } from './redis.js';
import { RequestLog } from './requests.js';
import { startServer } from './server.js';

export interface StartInstancesOptions {
  count: number;
  jobTime: number;
  /** The library streams (modes sse and auto): the disruption kills the stream's instance. */
  streams: boolean;
  log: Logger;
  cleanup: Cleanup;
  env?: Record<string, string | undefined>;
  /** A stop signal: start nothing more (no next step, no restart at the heal). */
  signal?: AbortSignal;
}

/**
 * BullMQ's lock on a running job, for the run's instances: a killed instance's jobs move on to a
 * living one within about twice this (heygen-api's RUNNER_LOCK_MS, 10 s by default, would make
 * the run wait up to 20 s). RUNNER_LOCK_MS in the environment wins.
 */
export const RUN_LOCK_MS = 2000;

/** How long the disruption waits for the client's stream to be open, when it is on its way. */
const STREAM_WAIT_MS = 2000;

type Launcher = (
  name: string,
  port: number,
  onSpawn: (stop: RunningServer['stop']) => void,
) => Promise<RunningServer>;

/** One heygen-api process of the run, restartable under the same name and port. */
class Instance {
  server: RunningServer | undefined;
  /** Stops the latest process from its spawn on: a stop signal need not wait for it to be ready. */
  private stopLatest: RunningServer['stop'] | undefined;

  constructor(
    readonly name: string,
    private readonly launch: Launcher,
  ) {}

  async start(port = 0): Promise<RunningServer> {
    this.server = await this.launch(this.name, port, (stop) => (this.stopLatest = stop));
    return this.server;
  }

  /** Stops it, or the start in progress (which then fails); safe to call more than once. */
  async stop(): Promise<void> {
    await this.stopLatest?.();
  }

  info(): InstanceInfo {
    return {
      name: this.name,
      url: this.server?.url ?? '',
      port: this.server?.port ?? 0,
      ...(this.server && { pid: this.server.pid }),
    };
  }
}

/** What the instance's `/health` says its BullMQ worker is running, if it answers within 1 s. */
async function runningJobsOf(server: RunningServer): Promise<number | undefined> {
  try {
    const response = await fetch(`${server.url}/health`, { signal: AbortSignal.timeout(1000) });
    const body = (await response.json()) as {
      details?: { redis?: { runningJobs?: unknown } };
    };
    const running = body.details?.redis?.runningJobs;
    return typeof running === 'number' ? running : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `--instances <n>`: a redis-server of the run's own, n heygen-api instances on it
 * (`JOBS_DRIVER=redis`) and one round-robin proxy in front. The disruption kills (SIGKILL) the
 * instance holding the client's event stream; the heal restarts it on its port. Everything
 * started is handed to `cleanup` before it starts, so every exit path stops it.
 */
export async function startInstances({
  count,
  jobTime,
  streams: expectStream,
  log,
  cleanup,
  env = process.env,
  signal,
}: StartInstancesOptions): Promise<Deployment> {
  // Before anything starts: a missing redis-server costs one line and nothing to clean up.
  const binary = findRedisServer(env, count);
  log.log('heygen-cli', 'starting redis-server', { binary });
  const redis = await startRedis(binary, cleanup, signal);
  signal?.throwIfAborted();
  log.log('heygen-cli', 'redis-server is ready', {
    url: redis.url,
    pid: redis.pid,
    dir: redis.dir,
  });

  const lockMs = env.RUNNER_LOCK_MS?.trim() || String(RUN_LOCK_MS);
  const launch: Launcher = (name, port, onSpawn) =>
    startServer({
      jobTime,
      port,
      log,
      instance: name,
      env: { ...env, JOBS_DRIVER: 'redis', REDIS_URL: redis.url, RUNNER_LOCK_MS: lockMs },
      onSpawn,
    });
  const instances = Array.from(
    { length: count },
    (_, index) => new Instance(`api-${index + 1}`, launch),
  );
  // One step for all, so that they stop side by side (instances before Redis: deferred after it).
  cleanup.defer(() => Promise.all(instances.map((instance) => instance.stop())));

  log.log('heygen-cli', `starting ${count} heygen-api instances on Redis`, {
    jobTime,
    RUNNER_LOCK_MS: lockMs,
  });
  const started = await Promise.allSettled(instances.map((instance) => instance.start()));
  signal?.throwIfAborted();
  const failed = started.find((outcome) => outcome.status === 'rejected');
  if (failed) throw failed.reason;
  for (const instance of instances) {
    log.log('heygen-cli', 'heygen-api is ready', {
      instance: instance.name,
      url: instance.server!.url,
      pid: instance.server!.pid,
    });
  }

  const balancer: Balancer = await startBalancer(
    instances.map(({ name, server }) => ({ name, host: server!.host, port: server!.port })),
  );
  cleanup.defer(() => balancer.close());
  signal?.throwIfAborted();
  const requests = new RequestLog();
  balancer.onForward((line, stream, instance) => requests.add(line, stream, instance));
  log.log('heygen-cli', 'network proxy is up', {
    url: balancer.url,
    targets: instances.map(({ name }) => name).join(','),
    balancing: 'round-robin',
  });

  let kill: KillEvent | undefined;
  let killed: Instance | undefined;
  return {
    url: balancer.url,
    requests,
    instances: () => instances.map((instance) => instance.info()),
    get kill() {
      return kill;
    },
    async disrupt(afterJob) {
      // The library opens its stream when it has a job to watch: after a quiet spell (every job
      // finished) the stream for the job just created may be on its way still.
      if (expectStream) await balancer.streamOpen(STREAM_WAIT_MS);
      const streams = balancer.openStreams();
      const name = streams.at(-1) ?? requests.last() ?? instances[0]!.name;
      const victim = instances.find((instance) => instance.name === name)!;
      const server = victim.server!;
      const runningJobs = await runningJobsOf(server);
      // Out of the rotation first, so that the library's reconnection goes to a living instance.
      balancer.remove(name);
      const at = Date.now();
      await server.stop('SIGKILL');
      killed = victim;
      kill = {
        instance: name,
        port: server.port,
        pid: server.pid,
        at,
        afterJob,
        reason: streams.length > 0 ? 'stream' : 'last-request',
        ...(runningJobs !== undefined && { runningJobs }),
      };
      log.log(
        'heygen-cli',
        `network change: ${name} is killed (SIGKILL), ${
          kill.reason === 'stream'
            ? "the instance holding the client's event stream"
            : 'the instance that served the last request (no stream was open)'
        }`,
        { port: server.port, pid: server.pid, runningJobs },
      );
    },
    async heal() {
      if (!killed || !kill || signal?.aborted) return;
      const victim = killed;
      killed = undefined;
      try {
        const server = await victim.start(kill.port);
        balancer.add({ name: victim.name, host: server.host, port: server.port });
        kill.restartedAt = Date.now();
        kill.restartedPid = server.pid;
        log.log('heygen-cli', `network healed: ${victim.name} restarted and back in the rotation`, {
          port: server.port,
          pid: server.pid,
        });
      } catch (error) {
        kill.restartError = error instanceof Error ? error.message : String(error);
        log.error('heygen-cli', `network healed, but ${victim.name} stays down`, {
          error: kill.restartError,
        });
      }
    },
  };
}
