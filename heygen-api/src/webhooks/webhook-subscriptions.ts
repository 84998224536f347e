import { type ClientKey } from '../domain/client.js';
import { isFinalDelivery, type DeliveryAttempt, type WebhookDelivery } from './webhook-delivery.js';
import { type WebhookTarget } from './webhook-target.js';

/** Attempts kept per job for its history, the latest ones (bounded memory, issue 19). */
export const MAX_ATTEMPTS_KEPT = 100;
/** Deliveries kept per job: a job sends at most ~100 progress events and one final one. */
const MAX_DELIVERIES_KEPT = 128;
/**
 * Expired subscriptions looked at per registration: the sweep is spread over creates. At most as
 * many finished entries are dropped per registration to bring the map back under its cap.
 */
const SWEEP_STEP = 16;

/** A job's webhook and what was sent to it. */
export interface WebhookSubscription {
  clientId: ClientKey;
  jobId: number;
  target: WebhookTarget;
  /** The receiver answered 410 Gone: no more automatic deliveries to it for this job. */
  gone: boolean;
  /** The job reached its final state. */
  finished: boolean;
  deliveries: Map<string, WebhookDelivery>;
  latestDeliveryId?: string;
  /** The delivery of the job's final state, once there is one. */
  finalDeliveryId?: string;
  /** Oldest first, at most MAX_ATTEMPTS_KEPT. */
  attempts: DeliveryAttempt[];
  /** The latest change or attempt (ms since the epoch): kept RETENTION_MS after it once idle. */
  touchedAt: number;
}

const keyOf = (clientId: ClientKey, jobId: number): string => `${clientId}#${jobId}`;

/**
 * The webhooks of this process's jobs, apart from the tightly packed job records
 * (store/packed-job.ts): only jobs created with a webhook have an entry. An entry is dropped
 * RETENTION_MS after its job finished and its deliveries settled, like the job itself, by the
 * sweep each registration makes; when `maxKept` are held, settled ones go at once, and when the
 * sweep found none, the entry of the job that finished first goes though its deliveries are still
 * pending: they are given up, and `add` returns them for the caller to take out of its queue. A
 * receiver answering 500 kept every entry for the schedule's day and a half: 30,000 jobs held
 * 296 MB (review of 2026-12-02). An unfinished job's entry never goes: its final event must still
 * be sent (unfinished jobs are bounded by the active-job limits).
 */
export class WebhookSubscriptions {
  private readonly byJob = new Map<string, WebhookSubscription>();
  /**
   * The finished entries of `byJob`, in the order their jobs finished: the oldest finished is the
   * first, found in O(1). `byJob` is in no useful order for that (the sweep moves what it keeps to
   * the back), and searching it would cost O(n) per registration behind unfinished jobs.
   */
  private readonly finishedInOrder = new Map<string, WebhookSubscription>();

  constructor(
    private readonly maxKept: number,
    private readonly retentionMs: number,
  ) {}

  get size(): number {
    return this.byJob.size;
  }

  /**
   * Subscribes a job; one already subscribed (a creation retried with its key) is kept as it is.
   * Returns the deliveries given up to make room (marked `failed`): the caller cancels them.
   */
  add(clientId: ClientKey, jobId: number, target: WebhookTarget, now: number): WebhookDelivery[] {
    this.sweep(now);
    const key = keyOf(clientId, jobId);
    if (this.byJob.has(key)) return [];
    const givenUp = this.makeRoom();
    this.byJob.set(key, {
      clientId,
      jobId,
      target,
      gone: false,
      finished: false,
      deliveries: new Map(),
      attempts: [],
      touchedAt: now,
    });
    return givenUp;
  }

  /** The job reached its final state: its entry may now go, by age of that finish. */
  finish(clientId: ClientKey, jobId: number): void {
    const key = keyOf(clientId, jobId);
    const subscription = this.byJob.get(key);
    if (!subscription || subscription.finished) return;
    subscription.finished = true;
    this.finishedInOrder.set(key, subscription);
  }

  get(clientId: ClientKey, jobId: number): WebhookSubscription | undefined {
    return this.byJob.get(keyOf(clientId, jobId));
  }

  addDelivery(subscription: WebhookSubscription, delivery: WebhookDelivery): void {
    const { deliveries } = subscription;
    deliveries.set(delivery.deliveryId, delivery);
    subscription.latestDeliveryId = delivery.deliveryId;
    if (isFinalDelivery(delivery)) subscription.finalDeliveryId = delivery.deliveryId;
    if (deliveries.size <= MAX_DELIVERIES_KEPT) return;
    for (const [id, kept] of deliveries) {
      if (kept.state !== 'pending') {
        deliveries.delete(id);
        return;
      }
    }
  }

  record(subscription: WebhookSubscription, attempt: DeliveryAttempt, now: number): void {
    subscription.attempts.push(attempt);
    if (subscription.attempts.length > MAX_ATTEMPTS_KEPT) subscription.attempts.shift();
    subscription.touchedAt = now;
  }

  clear(): void {
    this.byJob.clear();
    this.finishedInOrder.clear();
  }

  /**
   * At the cap, after the sweep found no settled entry to drop: the oldest finished entries go,
   * at most SWEEP_STEP, until there is room for one more (more than one only when unfinished jobs
   * past the cap finished since). Their pending deliveries are given up, as a 410 does.
   */
  private makeRoom(): WebhookDelivery[] {
    const givenUp: WebhookDelivery[] = [];
    let dropped = 0;
    for (const [key, subscription] of this.finishedInOrder) {
      if (this.byJob.size < this.maxKept || dropped++ >= SWEEP_STEP) break;
      this.drop(key);
      for (const delivery of subscription.deliveries.values()) {
        if (delivery.state !== 'pending') continue;
        delivery.state = 'failed';
        delete delivery.nextAttemptAt;
        givenUp.push(delivery);
      }
    }
    return givenUp;
  }

  private drop(key: string): void {
    this.byJob.delete(key);
    this.finishedInOrder.delete(key);
  }

  /**
   * Looks at SWEEP_STEP entries from the front: each is dropped when it may go, else moved to the
   * back, so that the next sweep looks at others. Entries that may not go yet (an unfinished job,
   * a delivery retried for hours) stayed at the front and held back every one behind them: 16 of
   * them kept 20,000 settled entries for good (review of 2026-12-01).
   */
  private sweep(now: number): void {
    let looked = 0;
    for (const [key, subscription] of this.byJob) {
      if (looked++ >= SWEEP_STEP) break;
      // At the cap, one settled entry goes to make room, however recent.
      const full = this.byJob.size >= this.maxKept;
      this.byJob.delete(key);
      const expired = full || now - subscription.touchedAt >= this.retentionMs;
      if (settled(subscription) && expired) this.finishedInOrder.delete(key);
      else this.byJob.set(key, subscription);
    }
  }
}

/** The job finished and every delivery of it is over: nothing is left to send. */
function settled(subscription: WebhookSubscription): boolean {
  if (!subscription.finished) return false;
  for (const delivery of subscription.deliveries.values()) {
    if (delivery.state === 'pending') return false;
  }
  return true;
}
