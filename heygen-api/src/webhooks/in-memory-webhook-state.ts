import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import { type ClientKey } from '../domain/client.js';
import { type DeliveryAttempt, type WebhookDelivery } from './webhook-delivery.js';
import { type StoredSubscription, type WebhookState } from './webhook-state.js';
import { WebhookSubscriptions } from './webhook-subscriptions.js';
import { type WebhookTarget } from './webhook-target.js';

/** The memory driver's webhook state: a map in this process, lost on restart. */
@Injectable()
export class InMemoryWebhookState implements WebhookState, OnModuleDestroy {
  private readonly subscriptions: WebhookSubscriptions;

  constructor(@Inject(AppConfig) config: AppConfig) {
    this.subscriptions = new WebhookSubscriptions(config.maxRetainedJobs, config.retentionMs);
  }

  /** Webhooks held, for leak checks: at most MAX_RETAINED_JOBS once finished jobs can make room. */
  get held(): number {
    return this.subscriptions.size;
  }

  subscribe(clientId: ClientKey, jobId: number, target: WebhookTarget): Promise<WebhookDelivery[]> {
    return Promise.resolve(this.subscriptions.add(clientId, jobId, target, Date.now()));
  }

  subscription(clientId: ClientKey, jobId: number): Promise<StoredSubscription | undefined> {
    return Promise.resolve(this.subscriptions.get(clientId, jobId));
  }

  finished(clientId: ClientKey, jobId: number): void {
    this.subscriptions.finish(clientId, jobId);
  }

  delivery(
    clientId: ClientKey,
    jobId: number,
    deliveryId: string,
  ): Promise<WebhookDelivery | undefined> {
    return Promise.resolve(this.subscriptions.get(clientId, jobId)?.deliveries.get(deliveryId));
  }

  addDelivery(delivery: WebhookDelivery): Promise<WebhookDelivery> {
    const subscription = this.subscriptions.get(delivery.clientId, delivery.jobId);
    for (const kept of subscription?.deliveries.values() ?? []) {
      if (kept.eventId === delivery.eventId) return Promise.resolve(kept);
    }
    const final = subscription?.finalDeliveryId;
    if (delivery.type === 'job.progress' && final !== undefined) {
      const kept = subscription?.deliveries.get(final);
      if (kept) return Promise.resolve(kept);
    }
    return this.saveDelivery(delivery).then(() => delivery);
  }

  saveDelivery(delivery: WebhookDelivery): Promise<void> {
    const subscription = this.subscriptions.get(delivery.clientId, delivery.jobId);
    if (subscription) {
      subscription.touchedAt = Date.now();
      // The same object, changed in place, is saved again: kept where it is. A copy saying
      // `pending` does not undo a delivery (as in RedisWebhookState's SAVE).
      const kept = subscription.deliveries.get(delivery.deliveryId);
      const undoes = kept?.state === 'delivered' && delivery.state === 'pending';
      if (kept !== delivery && !undoes) this.subscriptions.addDelivery(subscription, delivery);
    }
    return Promise.resolve();
  }

  markGone(clientId: ClientKey, jobId: number): Promise<WebhookDelivery[]> {
    const subscription = this.subscriptions.get(clientId, jobId);
    if (!subscription) return Promise.resolve([]);
    subscription.gone = true;
    const pending = [...subscription.deliveries.values()].filter((d) => d.state === 'pending');
    for (const delivery of pending) {
      delivery.state = 'failed';
      delete delivery.nextAttemptAt;
    }
    return Promise.resolve(pending);
  }

  record(clientId: ClientKey, jobId: number, attempt: DeliveryAttempt): Promise<void> {
    const subscription = this.subscriptions.get(clientId, jobId);
    if (subscription) this.subscriptions.record(subscription, attempt, Date.now());
    return Promise.resolve();
  }

  attempts(clientId: ClientKey, jobId: number): Promise<DeliveryAttempt[]> {
    return Promise.resolve([...(this.subscriptions.get(clientId, jobId)?.attempts ?? [])]);
  }

  onModuleDestroy(): void {
    this.subscriptions.clear();
  }
}
