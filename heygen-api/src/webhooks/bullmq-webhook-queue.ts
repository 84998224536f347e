import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { DelayedError, Queue, Worker, type Job } from 'bullmq';
import { AppConfig } from '../config/app-config.js';
import { bullmqConnection, closeBullmq, warnUnlessAway } from '../redis/bullmq.js';
import { RedisConnections } from '../redis/redis-connections.js';
import { settlesWithin } from '../redis/redis-unavailable.js';
import { SHARED_REDIS } from '../redis/shared-redis.js';
import { type WebhookDelivery } from './webhook-delivery.js';
import {
  budgetKeysOf,
  type DeliveryHandler,
  type DeliveryRef,
  type WebhookQueue,
} from './webhook-queue.js';

/** The BullMQ queue of webhook attempts, beside the runner's `jobs`. */
export const WEBHOOK_QUEUE_NAME = 'webhooks';

/** Attempts one instance makes at once. */
const CONCURRENCY = 64;
/**
 * Attempts one instance makes to one receiving host at once: a host that accepts and never
 * answers must leave the other slots to every other host (in-memory-webhook-queue.ts).
 */
export const MAX_IN_FLIGHT_PER_HOST = CONCURRENCY / 4;
/** Attempts of one client's deliveries one instance makes at once, whatever their hosts. */
export const MAX_IN_FLIGHT_PER_CLIENT = CONCURRENCY / 4;
/**
 * How long an attempt past its host's or client's budget first waits before it asks again; each
 * time it finds them busy again it waits twice as long, up to MAX_BUSY_DELAY_MS (an old parked
 * attempt must not wait minutes behind new ones that find a slot free).
 */
const BUSY_DELAY_MS = 1000;
const MAX_BUSY_DELAY_MS = 15_000;
/** How long, and how many, done attempts stay in Redis to de-duplicate their ids. */
const KEEP_DONE_S = 3600;
const KEEP_DONE_COUNT = 10_000;
/** How long a stop waits for the queue to close (the runner's hand-over bound). */
const CLOSE_MS = 3000;

/**
 * The redis driver's delivery queue: each attempt is a BullMQ job, delayed until it is due, so a
 * pending retry survives a restart and runs once across instances (BullMQ's lock); an instance
 * that dies mid-attempt has it run again elsewhere (at least once). The job id is the delivery
 * and its place in the schedule: the same attempt queued twice is queued once.
 */
@Injectable()
export class BullmqWebhookQueue implements WebhookQueue, OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger('Webhooks');
  private handler: DeliveryHandler | undefined;
  private queue?: Queue<DeliveryRef>;
  private worker?: Worker<DeliveryRef>;
  /** Attempts in flight on this instance, by receiving host (`h:<host>`) and client (`c:<client>`). */
  private readonly inFlight = new Map<string, number>();

  constructor(
    @Inject(AppConfig) private readonly config: AppConfig,
    @Inject(SHARED_REDIS) private readonly redis: RedisConnections,
  ) {}

  /** Not counted here: the delayed jobs are in Redis. */
  readonly size = 0;

  process(handler: DeliveryHandler): void {
    this.handler = handler;
  }

  onModuleInit(): void {
    const { connection, prefix } = bullmqConnection(this.redis, 'webhooks');
    this.queue = new Queue<DeliveryRef>(WEBHOOK_QUEUE_NAME, {
      connection,
      prefix,
      // Done attempts are kept a while: an attempt queued again (its event announced twice) finds
      // its id taken and is not made twice.
      defaultJobOptions: {
        removeOnComplete: { age: KEEP_DONE_S, count: KEEP_DONE_COUNT },
        removeOnFail: { age: 24 * 3600, count: 1000 },
      },
      streams: { events: { maxLen: 1000 } },
    });
    this.queue.on('error', (error) => warnUnlessAway(this.logger, this.redis, 'queue', error));
    // RUNNER_CONCURRENCY=0: an HTTP-only instance; the others deliver.
    if (this.config.runnerConcurrency === 0) return;
    this.worker = new Worker<DeliveryRef>(
      WEBHOOK_QUEUE_NAME,
      (job, token) => this.attempt(job, token),
      {
        connection,
        prefix,
        concurrency: CONCURRENCY,
        // An attempt takes at most WEBHOOK_TIMEOUT_MS: its lock must outlast it.
        lockDuration: this.config.webhookTimeoutMs + 10_000,
        drainDelay: 1,
      },
    );
    this.worker.on('error', (error) => warnUnlessAway(this.logger, this.redis, 'worker', error));
  }

  /**
   * Settles once the attempt is in Redis: while Redis is away, BullMQ's connection keeps the
   * command until it is back. Rejects with BullMQ's own error otherwise (the dispatcher logs it).
   */
  async schedule(delivery: WebhookDelivery, dueAt: number): Promise<void> {
    const { clientId, jobId, deliveryId, host } = delivery;
    await this.queue?.add(
      'deliver',
      { clientId, jobId, deliveryId, ...(host !== undefined && { host }) },
      {
        delay: Math.max(0, dueAt - Date.now()),
        jobId: `${deliveryId}-${delivery.scheduled}`,
      },
    );
  }

  /**
   * One attempt, unless its host or its client has its budget in flight here: then it waits,
   * freeing its slot.
   */
  private async attempt(job: Job<DeliveryRef>, token?: string): Promise<void> {
    const [host, client] = budgetKeysOf(job.data);
    const budgets: [string, number][] = [
      [host, MAX_IN_FLIGHT_PER_HOST],
      [client, MAX_IN_FLIGHT_PER_CLIENT],
    ];
    const full = budgets.some(([key, limit]) => (this.inFlight.get(key) ?? 0) >= limit);
    if (full && token !== undefined) {
      // Parked again and again, each time later (with jitter, so that a backlog spreads out): at
      // 1 s each, 2,000 deliveries parked behind a silent host cost Redis 51,000 commands a second
      // (review of 2026-12-01). `attemptsStarted` counts the times it was taken.
      const parked = Math.min(job.attemptsStarted, 10);
      const delay = Math.min(BUSY_DELAY_MS * 2 ** Math.max(0, parked - 1), MAX_BUSY_DELAY_MS);
      await job.moveToDelayed(
        Date.now() + Math.max(BUSY_DELAY_MS, delay * (0.5 + Math.random() / 2)),
        token,
      );
      throw new DelayedError();
    }
    for (const [key] of budgets) this.inFlight.set(key, (this.inFlight.get(key) ?? 0) + 1);
    try {
      await this.handler?.(job.data);
    } finally {
      for (const [key] of budgets) {
        const left = (this.inFlight.get(key) ?? 1) - 1;
        if (left > 0) this.inFlight.set(key, left);
        else this.inFlight.delete(key);
      }
    }
  }

  cancel(): void {
    // A queued attempt of a delivery that settled meanwhile is skipped when it comes up.
  }

  async beforeApplicationShutdown(): Promise<void> {
    // As the runner does: Redis away, the worker is closed forced, and the wait is bounded; an
    // attempt cut short runs again elsewhere (at least once).
    const away = this.redis.command.status !== 'ready';
    const closed = closeBullmq(this.worker, this.queue, away);
    if (!(await settlesWithin(closed, CLOSE_MS))) {
      this.logger.warn('Redis did not answer while the webhook queue closed');
    }
  }
}
