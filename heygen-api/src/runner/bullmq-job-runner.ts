import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { Queue, WaitingError, Worker, type Job as QueueJob } from 'bullmq';
import { type Redis } from 'ioredis';
import { JobChanges, type OptIns } from '../changes/job-changes.js';
import { AppConfig } from '../config/app-config.js';
import { type ClientKey } from '../domain/client.js';
import {
  fail,
  isFinished,
  start,
  type Job,
  type JobRecord,
  type JobTransition,
} from '../domain/job.js';
import { JOB_EVENTS, type JobEvents } from '../events/job-events.js';
import { shortClient } from '../logging/redact.js';
import { AppMetrics } from '../metrics/app-metrics.js';
import { bullmqConnection, closeBullmq, warnUnlessAway } from '../redis/bullmq.js';
import { RedisConnections } from '../redis/redis-connections.js';
import { retryWhileUnavailable, settlesWithin } from '../redis/redis-unavailable.js';
import { type WorkerStatus } from '../redis/redis.health.js';
import { JOB_STORE, type JobStore } from '../store/job-store.js';
import { type ApplyTransition, type JobRunner, type RunOptions } from './job-runner.js';
import { SimulatedJobRunner } from './simulated-job-runner.js';

/** The BullMQ queue every instance adds to and works from. */
export const QUEUE_NAME = 'jobs';

/**
 * What a queued job carries: the job's name, and the job as it was handed over (its first run
 * starts from it without reading the store; any later run reads the store).
 */
interface RunnerJobData {
  clientId: ClientKey;
  id: number;
  job?: Job;
  fail?: boolean;
  /** Cancel-After: the job is cancelled at this time (ms) unless finished, even if still queued. */
  cancelAt?: number;
  /** What the job opted into; absent when unknown (queued again from its record alone). */
  optIns?: OptIns;
}

/** Attempts of a job whose processing throws (Redis away, say) before it is failed for good. */
const ATTEMPTS = 5;
/** A job whose instance died this many times is failed by BullMQ (docs/design.md, "BullMQ"). */
const MAX_STALLED_COUNT = 10;
/** Entries of BullMQ's own events stream (its default: 10,000), trimmed approximately. */
const EVENTS_KEPT = 1000;
/** How long a graceful stop waits for Redis to take its running jobs back. */
const HAND_OVER_MS = 3000;
/** The most jobs one repair round hands to the queue again (see repair). */
const REPAIR_BATCH = 100;

export const RUNNER_FAILURE = {
  code: 'RUNNER_FAILED',
  message: 'The job could not be run; it was tried on several instances',
} as const;

/**
 * Fails a job BullMQ gave up on, with RUNNER_FAILED. One still pending (no attempt got as far as
 * its first step) starts and fails in the same change, as the lifecycle goes: a pending job cannot
 * fail, and it stayed pending, holding its client's slot, while BullMQ kept the failed job (24 h).
 */
const failedByRunner: JobTransition = (job, now) =>
  fail(RUNNER_FAILURE)(start(job, now) ?? job, now);

/**
 * The runner of the redis driver: creating a job adds it to a BullMQ queue, and a worker in every
 * instance simulates it (the SimulatedJobRunner's schedule, fed from the shared store). A job whose
 * instance dies is moved back to the queue by BullMQ's stalled-job check and resumed from its
 * stored state by another instance; one that stops gracefully hands its jobs over at once.
 */
@Injectable()
export class BullmqJobRunner
  implements JobRunner, WorkerStatus, OnModuleInit, BeforeApplicationShutdown
{
  private readonly logger = new Logger(BullmqJobRunner.name);
  private readonly simulation: SimulatedJobRunner;
  private queue?: Queue<RunnerJobData>;
  private worker?: Worker<RunnerJobData>;
  private subscriber?: Redis;
  private repairTimer?: NodeJS.Timeout;
  private handingOver = false;

  constructor(
    @Inject(AppConfig) private readonly config: AppConfig,
    @Inject(RedisConnections) private readonly redis: RedisConnections,
    @Inject(JOB_STORE) private readonly store: JobStore,
    @Inject(JOB_EVENTS) private readonly events: JobEvents,
    @Inject(AppMetrics) metrics: AppMetrics = new AppMetrics(),
    @Inject(JobChanges) private readonly changes: JobChanges = new JobChanges(metrics),
  ) {
    this.simulation = new SimulatedJobRunner(config);
    metrics.readAtScrape('runningJobs', () => this.running);
  }

  onModuleInit(): void {
    const { connection, prefix } = bullmqConnection(this.redis, 'bullmq');
    this.queue = new Queue<RunnerJobData>(QUEUE_NAME, {
      connection,
      prefix,
      defaultJobOptions: {
        attempts: ATTEMPTS,
        backoff: { type: 'exponential', delay: 1000 },
        // The store is the truth about a job; the queue keeps only what is left to do.
        removeOnComplete: true,
        removeOnFail: { age: 24 * 3600, count: 1000 },
      },
      // BullMQ appends to its queue-wide events stream on every state change (3 to 4 per job); it
      // cannot be turned off, and nothing here reads it (QueueEvents is not used): kept short.
      streams: { events: { maxLen: EVENTS_KEPT } },
    });
    this.queue.on('error', (error) => this.warn('queue', error));
    // RUNNER_CONCURRENCY=0: an instance that only serves HTTP; the others run its jobs.
    if (this.config.runnerConcurrency === 0) return;
    this.worker = new Worker<RunnerJobData>(QUEUE_NAME, (job, token) => this.process(job, token), {
      connection,
      prefix,
      concurrency: this.config.runnerConcurrency,
      lockDuration: this.config.runnerLockMs,
      stalledInterval: Math.ceil(this.config.runnerLockMs / 2),
      maxStalledCount: MAX_STALLED_COUNT,
      // Seconds an idle worker blocks before asking again (BullMQ's 5 showed as 5 s pauses).
      drainDelay: 1,
    });
    this.worker.on('error', (error) => this.warn('worker', error));
    this.worker.on('failed', (job, error) => void this.onFailed(job, error));
    this.repairTimer = setInterval(() => void this.repair(), this.config.runnerLockMs);
    this.repairTimer.unref();

    // A cancel reaches the instance working on the job, whichever it is.
    this.subscriber = this.redis.open('runner', { maxRetriesPerRequest: null });
    this.subscriber.on('message', (_channel: string, message: string) => {
      const space = message.indexOf(' ');
      this.simulation.stop(message.slice(space + 1), Number(message.slice(0, space)));
    });
    this.subscriber.subscribe(this.stopChannel).catch((error: Error) => {
      this.logger.warn(`Subscribing to cancellations: ${error.message}`);
    });
  }

  run(
    { clientId, job, fail }: JobRecord,
    _apply: ApplyTransition,
    { cancelAt, ...optIns }: RunOptions = {},
  ): void {
    // The job id dedupes: a job is in the queue once, however often it is added.
    this.queue!.add(
      'simulate',
      {
        clientId,
        id: job.id,
        job,
        fail,
        ...(cancelAt !== undefined && { cancelAt }),
        optIns,
      },
      { jobId: `${encodeURIComponent(clientId)}@${job.id}` },
    ).catch((error: Error) => {
      this.logger.error(
        `Job ${job.id} of client ${shortClient(clientId)}: could not be queued`,
        error,
      );
    });
  }

  stop(clientId: ClientKey, id: number): void {
    this.simulation.stop(clientId, id);
    this.redis.command.publish(this.stopChannel, `${id} ${clientId}`).catch(() => {
      // The instance working on it sees the job finished at its next step.
    });
  }

  get workerRunning(): boolean {
    return this.worker?.isRunning() ?? false;
  }

  /** This instance runs jobs (RUNNER_CONCURRENCY > 0). */
  get workerWanted(): boolean {
    return this.config.runnerConcurrency > 0;
  }

  /** Jobs this instance is simulating now. */
  get running(): number {
    return this.simulation.running;
  }

  /**
   * Graceful: no new job is taken, and the running ones go back to the queue for the others. With
   * Redis away that cannot be done, and is not waited for long: the jobs' locks expire and the
   * other instances take them on once Redis is back, as after a crash. After the first round of
   * hooks, which stop the serving (streams ended, held waits answered, health down) at once.
   */
  async beforeApplicationShutdown(): Promise<void> {
    this.handingOver = true;
    clearInterval(this.repairTimer);
    const away = this.redis.command.status !== 'ready';
    // The worker takes no new job from here on; the running ones are handed over below.
    const closed = closeBullmq(this.worker, this.queue, away);
    const handedOver = this.simulation.stopAll();
    if (handedOver > 0 && !away) this.logger.log(`Handing ${handedOver} running jobs over`);
    if (!(await settlesWithin(closed, HAND_OVER_MS))) {
      this.logger.warn(`Redis did not take ${handedOver} running jobs back: they resume elsewhere`);
    }
  }

  private async process(job: QueueJob<RunnerJobData>, token?: string): Promise<void> {
    const { clientId, id, job: handed, fail, cancelAt, optIns } = job.data;
    if (!this.handingOver) {
      // Taken for the first time, the job is as it was handed over but for a cancel, which its
      // first step's compare-and-set finds (and the simulation then stops): no read. Taken again
      // (handed back, or its instance died), it may have moved on: read it.
      const firstTake =
        handed !== undefined &&
        fail !== undefined &&
        job.attemptsStarted === 1 &&
        job.stalledCounter === 0;
      const record: JobRecord | undefined = firstTake
        ? { clientId, job: handed, fail }
        : await this.store.get(clientId, id);
      if (!record) return;
      // Taken again, the job's latest change may be one whose instance died before telling the
      // webhooks: told again (an event told twice is delivered once).
      if (!firstTake) await this.announce(record, optIns);
      if (isFinished(record.job)) return;
      // A step declined because the job had finished elsewhere told its final change already.
      let toldFinished = false;
      // The deadline travels with the queued job: whichever instance takes it (first, or after
      // another died) cancels it then, at once if it waited in the queue past it.
      const outcome = await this.simulation.simulate(
        record,
        (transition) =>
          this.apply(clientId, id, transition, optIns, () => {
            toldFinished = true;
          }),
        cancelAt,
      );
      if (outcome === 'finished') return;
      if (!this.handingOver) {
        // Stopped: another instance cancelled the job. Its final change is told here too, before
        // the queued job completes, in case that instance died before it could.
        if (toldFinished) return;
        const stopped = await this.untilRedisAnswers(() => this.store.get(clientId, id));
        if (stopped && isFinished(stopped.job)) await this.announce(stopped, optIns);
        return;
      }
    }
    // Back to the queue now, rather than when the lock expires: another instance takes it on.
    await job.moveToWait(token);
    throw new WaitingError();
  }

  /**
   * What JobsService does for a change, for a job any instance created: the redis store changes
   * the job and logs its event in one script (Logged), so a change stored is always published,
   * even if this instance dies right after. While Redis is away the step is tried again until it
   * is back (or the instance stops): the simulation waits for a step before the next, so a job's
   * last step, above all, is never skipped.
   */
  private async apply(
    clientId: ClientKey,
    id: number,
    transition: JobTransition,
    optIns: OptIns | undefined,
    /** Told when a declined step found the job finished (its change told here) or gone. */
    onFinishedElsewhere?: () => void,
  ): Promise<Job | undefined> {
    const record = await this.untilRedisAnswers(() =>
      this.store.update(clientId, id, (job) => transition(job, Date.now())),
    );
    if (record) {
      // Only a store that does not log its changes (not the redis one) leaves this to do.
      const event =
        record.event ??
        (await this.untilRedisAnswers(() => this.events.publish(clientId, record.job)));
      // Awaited: the next step, and the queued job's completion, wait until the change's webhook
      // delivery is queued, so an instance dying now loses none (docs/design.md, "Webhooks").
      await this.changes.changed(event, optIns);
      return record.job;
    }
    // Declined: when the job was cancelled meanwhile (and the stop message missed), stop here.
    const current = await this.untilRedisAnswers(() => this.store.get(clientId, id));
    // Declined may also mean done: a try that timed out while Redis was paused ran when it woke,
    // and its retry found the change made. Its event is told again (an event told twice is
    // delivered once), or its webhook, the final one above all, would never be sent.
    if (current) await this.announce(current, optIns);
    if (!current || isFinished(current.job)) {
      onFinishedElsewhere?.();
      this.simulation.stop(clientId, id);
    }
    return undefined;
  }

  /** Tells the job's latest change again, as its event (job.eventId) logged it. */
  private async announce({ clientId, job }: JobRecord, optIns?: OptIns): Promise<void> {
    if (job.eventId === undefined) return;
    await this.changes.announced({ id: job.eventId, clientId, job }, optIns);
  }

  /**
   * Queues again the jobs still pending a lock period after their creation. A creation whose answer
   * was lost (Redis paused past the command timeout, answered 503) made its job without handing it
   * to the queue: it would stay pending, holding its client's slot, for ever. Queued by its id, a
   * job already in the queue (every worker busy) is left as it is, and its Cancel-After deadline is
   * read from the record, since the hand-over that carried it was lost.
   */
  private async repair(): Promise<void> {
    if (this.handingOver || !this.store.stillPending) return;
    try {
      const stuck = await this.store.stillPending(this.config.runnerLockMs, REPAIR_BATCH);
      for (const { clientId, id } of stuck) {
        const record = await this.store.get(clientId, id);
        if (record?.job.status === 'pending') {
          const { cancelAt } = record;
          this.run(record, () => Promise.resolve(undefined), {
            ...(cancelAt !== undefined && { cancelAt }),
          });
        }
      }
    } catch {
      // Redis away: RedisConnections says so; the next round tries again.
    }
  }

  /**
   * A job BullMQ gave up on still reaches a final state: failed, with the reason. It gives up when
   * the attempts are spent, or when the job's instances died more than MAX_STALLED_COUNT times,
   * whatever the attempts left (review of 2026-12-01: such a job stayed running for good); an
   * attempt to be made again is not in the failed set.
   */
  private async onFailed(job: QueueJob<RunnerJobData> | undefined, error: Error): Promise<void> {
    if (!job) return;
    const spent = job.attemptsMade >= (job.opts.attempts ?? 1);
    if (!spent && !(await job.isFailed().catch(() => false))) return;
    this.logger.error(
      `Job ${job.data.id} of client ${shortClient(job.data.clientId)}: ${error.message}`,
    );
    const { clientId, id, optIns } = job.data;
    await this.apply(clientId, id, failedByRunner, optIns).catch(() => {});
  }

  private warn(source: string, error: Error): void {
    warnUnlessAway(this.logger, this.redis, source, error);
  }

  private untilRedisAnswers<T>(step: () => Promise<T>): Promise<T> {
    return retryWhileUnavailable(step, () => !this.handingOver);
  }

  private get stopChannel(): string {
    return `${this.redis.prefix}runner:stop`;
  }
}
