import { type ClientKey } from '../domain/client.js';
import { isFinalDelivery, type DeliveryAttempt, type WebhookDelivery } from './webhook-delivery.js';
import { type WebhookTarget } from './webhook-target.js';

/** Attempts kept per job for its history, the latest ones (bounded memory, issue 19). */
export const MAX_ATTEMPTS_KEPT = 100;
/** Deliveries kept per job: a job sends at most ~100 progress events and one final one. */
const MAX_DELIVERIES_KEPT = 128;
/** Expired subscriptions looked at per registration: the sweep is spread over creates. */
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
 * sweep each registration makes; when `maxKept` are held, settled ones go at once. An unfinished
 * job's entry, or one with a delivery under way, never goes: its final event would never be sent.
 */
export class WebhookSubscriptions {
  private readonly byJob = new Map<string, WebhookSubscription>();

  constructor(
    private readonly maxKept: number,
    private readonly retentionMs: number,
  ) {}

  get size(): number {
    return this.byJob.size;
  }

  /** Subscribes a job; one already subscribed (a creation retried with its key) is kept as it is. */
  add(clientId: ClientKey, jobId: number, target: WebhookTarget, now: number): void {
    this.sweep(now);
    const key = keyOf(clientId, jobId);
    if (this.byJob.has(key)) return;
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
      if (!(settled(subscription) && expired)) this.byJob.set(key, subscription);
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
