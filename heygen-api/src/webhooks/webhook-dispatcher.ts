import { Inject, Injectable, Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { AppConfig } from '../config/app-config.js';
import { uuidOf, type ClientKey } from '../domain/client.js';
import { isFinished } from '../domain/job.js';
import { DomainError } from '../errors/domain-error.js';
import { type JobEvent } from '../events/job-events.js';
import { AppMetrics } from '../metrics/app-metrics.js';
import { retryWhileUnavailable } from '../redis/redis-unavailable.js';
import { type JobWebhooks } from './job-webhooks.js';
import { ProgressThrottle } from './progress-throttle.js';
import { PublicResolver } from './public-address.js';
import { parseRetryAfter, retryDelayMs } from './retry-schedule.js';
import { type DeliveryAttempt, type WebhookDelivery } from './webhook-delivery.js';
import { webhookEventOf } from './webhook-events.js';
import { WEBHOOK_QUEUE, type DeliveryRef, type WebhookQueue } from './webhook-queue.js';
import { WebhookSecrets } from './webhook-secrets.js';
import { WebhookSender } from './webhook-sender.js';
import { WEBHOOK_STATE, type StoredSubscription, type WebhookState } from './webhook-state.js';
import { checkWebhookTarget, type WebhookFields, type WebhookTarget } from './webhook-target.js';

/** What `GET /status/:id/deliveries` answers. */
export interface DeliveryHistory {
  webhook: string | null;
  events: string[];
  attempts: DeliveryAttempt[];
}

/**
 * Manual retries this instance makes at once, beside the queue's. Each holds a socket and its
 * request for up to WEBHOOK_TIMEOUT_MS: a client looping on `retry` must not open thousands.
 */
export const MAX_MANUAL_IN_FLIGHT = 64;

/**
 * Turns job changes into signed deliveries, at least once (docs/protocol.md, "Webhooks"): each
 * change a job's webhook asked for becomes a delivery, tried on the retry schedule until the
 * receiver answers 2xx, answers 410, or the schedule ends. Nothing here ever reaches the job or
 * the HTTP answer that changed it: failures are recorded, logged, and retried. An event told twice
 * is delivered once: its delivery is found by the event's id. `progress` is the exception to
 * "every change": at most one per job per WEBHOOK_PROGRESS_INTERVAL_MS goes, and one that a later
 * change of its job replaced before it was delivered is dropped (docs/design.md, "Webhooks").
 */
@Injectable()
export class WebhookDispatcher implements JobWebhooks, BeforeApplicationShutdown {
  private readonly logger = new Logger('Webhooks');
  /** Resolves public webhook hosts, at create and at connect (c-ares: no threadpool thread). */
  private readonly resolver = new PublicResolver();
  private readonly sender = new WebhookSender({ resolver: this.resolver });
  /** Deliveries this instance is retrying by hand now: at most one attempt each. */
  private readonly manual = new Set<string>();
  private readonly progress: ProgressThrottle;
  /** Attempts under way on this instance, automatic and manual. */
  private inFlight = 0;
  /** The instance stops: a step waiting for Redis to come back gives up (see stored). */
  private stopping = false;

  constructor(
    @Inject(AppConfig) private readonly config: AppConfig,
    @Inject(WEBHOOK_QUEUE) private readonly queue: WebhookQueue,
    @Inject(WEBHOOK_STATE) private readonly state: WebhookState,
    @Inject(WebhookSecrets) private readonly secrets: WebhookSecrets,
    @Inject(AppMetrics) private readonly metrics: AppMetrics,
  ) {
    queue.process((ref) => this.attempt(ref));
    metrics.readAtScrape('webhookAttempts', () => this.inFlight);
    metrics.readAtScrape('webhooksQueued', () => queue.size);
    this.progress = new ProgressThrottle(config.webhookProgressIntervalMs, (held) => {
      void this.enqueueLogged(held, false);
    });
  }

  check(fields: WebhookFields): Promise<WebhookTarget | undefined> {
    return checkWebhookTarget(fields, this.config.webhookAllowPrivate, this.resolver);
  }

  async subscribe(clientId: ClientKey, jobId: number, target: WebhookTarget): Promise<void> {
    const givenUp = await this.state.subscribe(clientId, jobId, target);
    for (const delivery of givenUp) {
      // Out of the queue at once: it held the body until due, up to hours.
      this.queue.cancel(delivery.deliveryId);
      this.metrics.webhookGivenUp('retained_jobs_cap');
      this.logger.warn(
        `Job ${delivery.jobId}: webhook delivery ${delivery.deliveryId} (${delivery.type}) given ` +
          `up after ${delivery.attempts} attempts: MAX_RETAINED_JOBS ` +
          `(${this.config.maxRetainedJobs}) webhooks held, the oldest finished job's went`,
      );
    }
  }

  changed(event: JobEvent): Promise<void> {
    return this.enqueueLogged(event, true);
  }

  givenUpWithJobs(count: number): void {
    // Their queued attempts find no webhook when they come due, and make none.
    this.metrics.webhookGivenUp('retained_jobs_cap', count);
    this.logger.warn(
      `${count} webhook deliveries given up: MAX_RETAINED_JOBS (${this.config.maxRetainedJobs}) ` +
        `jobs held, the oldest finished jobs went with their webhooks`,
    );
  }

  /** The job's delivery attempts, oldest first (the caller has checked the job is the client's). */
  async history(clientId: ClientKey, jobId: number): Promise<DeliveryHistory> {
    const subscription = await this.state.subscription(clientId, jobId);
    if (!subscription) return { webhook: null, events: [], attempts: [] };
    return {
      webhook: subscription.target.url,
      events: [...subscription.target.events],
      attempts: await this.withoutStalePromises(clientId, jobId),
    };
  }

  /**
   * The attempts, each delivery's latest one without the `nextAttemptAt` it promised when the
   * delivery is no longer pending: a 410 to another of the job's deliveries cancelled it.
   */
  private async withoutStalePromises(clientId: ClientKey, jobId: number) {
    const attempts = await this.state.attempts(clientId, jobId);
    const latest = new Map(attempts.map((attempt, index) => [attempt.deliveryId, index]));
    for (const index of latest.values()) {
      const { nextAttemptAt, deliveryId, ...made } = attempts[index]!;
      if (nextAttemptAt === undefined) continue;
      const delivery = await this.state.delivery(clientId, jobId, deliveryId);
      if (delivery?.state !== 'pending') attempts[index] = { deliveryId, ...made };
    }
    return attempts;
  }

  /**
   * Attempts a delivery again now, whatever came of it before (even a 410); its schedule goes on.
   * A retry asked while one of the delivery's is under way joins it.
   */
  async retry(clientId: ClientKey, jobId: number, deliveryId: string): Promise<void> {
    const delivery = await this.state.delivery(clientId, jobId, deliveryId);
    if (!delivery) {
      throw new DomainError('DELIVERY_NOT_FOUND', `Delivery ${deliveryId} not found`);
    }
    if (this.manual.has(deliveryId)) return;
    if (this.manual.size >= MAX_MANUAL_IN_FLIGHT) {
      const seconds = Math.max(1, Math.ceil(this.config.webhookTimeoutMs / 1000));
      throw new DomainError(
        'RATE_LIMITED',
        `Too many webhook retries under way: try again in ${seconds} s`,
        seconds,
      );
    }
    this.manual.add(deliveryId);
    void this.attempt(delivery, true).finally(() => this.manual.delete(deliveryId));
  }

  /** With the runner and the queue (the same round of hooks), so no job steps past a stopped one. */
  beforeApplicationShutdown(): void {
    this.stopping = true;
    this.progress.close();
    this.sender.close();
  }

  private enqueueLogged(event: JobEvent, throttled: boolean): Promise<void> {
    return this.enqueue(event, throttled).catch((error: unknown) => {
      this.logger.error(`Job ${event.job.id}: could not queue a webhook`, error);
    });
  }

  /** Makes a change a delivery, unless the webhook did not ask for it or it is throttled. */
  private async enqueue(event: JobEvent, throttled: boolean): Promise<void> {
    const { id, clientId, job } = event;
    // A creation (`pending`) is no webhook event: no lookup for it.
    const name = webhookEventOf(job);
    if (!name) return;
    // The final change carries the job as it ended: progress held back is moot. Dropped before
    // the lookup, which a held change's window could end during.
    if (isFinished(job)) this.progress.drop(event);
    // Most jobs have no webhook: with the memory driver this is one map lookup.
    const subscription = await this.stored(() => this.state.subscription(clientId, job.id));
    if (!subscription) return;
    if (isFinished(job)) this.state.finished(clientId, job.id);
    if (!subscription.target.events.has(name) || subscription.gone) return;
    if (name === 'progress' && throttled && !this.progress.admit(event)) return;
    const type = `job.${name}` as const;
    const delivery: WebhookDelivery = {
      deliveryId: randomUUID(),
      clientId,
      jobId: job.id,
      eventId: id,
      host: new URL(subscription.target.url).host,
      type,
      // `client`: event and job ids are counted per client, so a receiver several clients share
      // tells their deliveries apart by it (docs/protocol.md, "Webhooks").
      body: JSON.stringify({ type, timestamp: job.updatedAt, client: uuidOf(clientId), data: job }),
      attempts: 0,
      scheduled: 0,
      state: 'pending',
      nextAttemptAt: Date.now() + (retryDelayMs(this.config.webhookRetryScheduleMs, 1) ?? 0),
    };
    // The job's newest delivery so far, read before the add (the memory driver's subscription is
    // the live one).
    const earlier =
      subscription.latestDeliveryId === undefined
        ? undefined
        : await this.stored(() =>
            this.state.delivery(clientId, job.id, subscription.latestDeliveryId!),
          );
    // An event announced again (the runner that took a job over) finds its delivery: queued once
    // more while pending, which a queue that keeps its attempts ignores. A progress change heard
    // after the job's final one (held back on the runner's instance while another cancelled the
    // job) finds the final delivery, which covers it.
    // Tried again after a lost answer, the add finds the delivery it made (by the event's id).
    const kept = await this.stored(() => this.state.addDelivery(delivery));
    const sameEvent = kept.eventId === delivery.eventId;
    if (sameEvent && kept.state === 'pending' && kept.nextAttemptAt !== undefined) {
      await this.queue.schedule(kept, kept.nextAttemptAt);
    }
    if (kept === delivery && earlier !== undefined) await this.supersede(earlier);
  }

  /**
   * A new delivery of a job replaces the job's `progress` delivery still pending (retrying, or not
   * yet made): it is neither sent nor retried, since the new one tells where the job stands.
   */
  private async supersede(earlier: WebhookDelivery): Promise<void> {
    if (earlier.type !== 'job.progress' || earlier.state !== 'pending') return;
    await this.markSuperseded(earlier);
    this.queue.cancel(earlier.deliveryId);
  }

  private async markSuperseded(delivery: WebhookDelivery): Promise<void> {
    delivery.state = 'superseded';
    delete delivery.nextAttemptAt;
    await this.stored(() => this.state.saveDelivery(delivery));
  }

  /**
   * A step on the webhook state or queue, tried again while Redis is away (the redis driver: a
   * connection reset, a failover) until it is back or the instance stops. Given up at the first
   * failure, a final change's delivery was never made, or an attempt ended with its delivery
   * pending and nothing left to retry it (review of 2026-12-01).
   */
  private stored<T>(step: () => Promise<T>): Promise<T> {
    return retryWhileUnavailable(step, () => !this.stopping);
  }

  /** One POST of a delivery, then its next step on the schedule. Never rejects. */
  private async attempt(ref: DeliveryRef, manual = false): Promise<void> {
    this.inFlight += 1;
    try {
      const [subscription, delivery] = await this.stored(() =>
        Promise.all([
          this.state.subscription(ref.clientId, ref.jobId),
          this.state.delivery(ref.clientId, ref.jobId, ref.deliveryId),
        ]),
      );
      if (!subscription || !delivery) return;
      if (!manual && (subscription.gone || delivery.state !== 'pending')) return;
      if (!manual && supersededBy(subscription, delivery)) {
        // A newer change of the job came while this one was being made or retried elsewhere.
        await this.markSuperseded(delivery);
        return;
      }
      await this.send(subscription, delivery, manual);
    } catch (error) {
      this.logger.error(`Job ${ref.jobId}: webhook attempt failed unexpectedly`, error);
    } finally {
      this.inFlight -= 1;
    }
  }

  private async send(
    subscription: StoredSubscription,
    sent: WebhookDelivery,
    manual: boolean,
  ): Promise<void> {
    const { clientId, jobId, deliveryId } = sent;
    const at = new Date();
    const headers = {
      'webhook-id': sent.eventId,
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': await this.stored(() =>
        this.secrets.sign(clientId, sent.eventId, at, sent.body),
      ),
    };
    sent.attempts += 1;
    // The schedule counts automatic attempts only: a manual one leaves it where it stands.
    if (!manual) sent.scheduled += 1;
    const attempt = sent.attempts;
    const outcome = await this.sender.send(subscription.target.url, headers, sent.body, {
      timeoutMs: this.config.webhookTimeoutMs,
      allowPrivate: this.config.webhookAllowPrivate,
    });
    // Every attempt reads the delivery again: another may have moved it on meanwhile (redis
    // driver: each holds its own copy). Saving the copy read before the POST, a manual attempt put
    // the schedule back a step, and the next attempt, queued under an id already taken, never
    // came; an automatic one failing after a manual 2xx made the delivery pending again, and sent
    // it again (review of 2026-12-02). The memory driver's copy is the live delivery itself.
    const delivery =
      (await this.stored(() => this.state.delivery(clientId, jobId, deliveryId))) ?? sent;
    delivery.attempts = Math.max(delivery.attempts, attempt);
    delivery.scheduled = Math.max(delivery.scheduled, sent.scheduled);
    const now = Date.now();
    const status = outcome.statusCode;
    let reschedule = false;
    if (status !== undefined && status >= 200 && status < 300) {
      delivery.state = 'delivered';
      delete delivery.nextAttemptAt;
      this.queue.cancel(delivery.deliveryId);
    } else if (status === 410) {
      // [Standard Webhooks] 410 Gone: the receiver wants no more; this job's webhook is disabled.
      if (delivery.state === 'pending') this.metrics.webhookGivenUp('gone');
      delivery.state = 'failed';
      delete delivery.nextAttemptAt;
      for (const pending of await this.stored(() => this.state.markGone(clientId, jobId))) {
        this.queue.cancel(pending.deliveryId);
        if (pending.deliveryId !== delivery.deliveryId) this.metrics.webhookGivenUp('gone');
      }
    } else if (!manual && delivery.state === 'pending') {
      // Still pending: not given up or superseded while its attempt was under way (the memory
      // state's delivery is the live one), which would put it back in the queue for nothing.
      const delay = retryDelayMs(
        this.config.webhookRetryScheduleMs,
        delivery.scheduled + 1,
        parseRetryAfter(outcome.retryAfter, now),
      );
      if (delay === undefined) {
        delivery.state = 'failed';
        delete delivery.nextAttemptAt;
        this.metrics.webhookGivenUp('schedule_ended');
      } else {
        delivery.nextAttemptAt = now + delay;
        reschedule = true;
      }
    }
    await this.stored(() => this.state.saveDelivery(delivery));
    // Awaited: BullMQ completes this attempt only once the next one is queued.
    if (reschedule) await this.queue.schedule(delivery, delivery.nextAttemptAt!);
    const record: DeliveryAttempt = {
      deliveryId: delivery.deliveryId,
      eventId: delivery.eventId,
      type: delivery.type,
      attempt,
      at: at.toISOString(),
      ...(status !== undefined && { statusCode: status }),
      ...(outcome.error !== undefined && { error: outcome.error }),
      durationMs: outcome.durationMs,
      ...(delivery.state === 'pending' &&
        delivery.nextAttemptAt !== undefined && {
          nextAttemptAt: new Date(delivery.nextAttemptAt).toISOString(),
        }),
    };
    await this.stored(() => this.state.record(clientId, jobId, record));
    if (record.statusCode === undefined || record.statusCode >= 300) {
      this.logger.debug(
        `Job ${jobId}: webhook attempt ${attempt} ${record.error ?? String(record.statusCode)}`,
      );
    }
  }
}

/** A `progress` delivery that is not its job's newest: a later change replaced it. */
function supersededBy(subscription: StoredSubscription, delivery: WebhookDelivery): boolean {
  const latest = subscription.latestDeliveryId;
  return delivery.type === 'job.progress' && latest !== undefined && latest !== delivery.deliveryId;
}
