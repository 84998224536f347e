import { type ClientKey } from '../domain/client.js';
import { type DeliveryAttempt, type WebhookDelivery } from './webhook-delivery.js';
import { type WebhookTarget } from './webhook-target.js';

/** Injection token of where webhooks, deliveries and attempts are kept: this process, or Redis. */
export const WEBHOOK_STATE = Symbol('WebhookState');

/** A job's webhook as kept: where, which events, and whether the receiver answered 410. */
export interface StoredSubscription {
  target: WebhookTarget;
  gone: boolean;
  /** The job's newest delivery: a `progress` one older than it is superseded. */
  latestDeliveryId?: string;
}

/**
 * The webhooks' state, a port like JobStore: the memory driver keeps it in a map beside the jobs,
 * the redis driver in Redis, so that any instance runs a delivery and answers its history.
 */
export interface WebhookState {
  /**
   * Keeps a job's webhook. Returns the pending deliveries of other jobs given up to make room,
   * marked `failed`, for the caller to cancel: the memory driver holds at most MAX_RETAINED_JOBS
   * webhooks, and at that cap the job that finished first loses its own (Redis: none here, the
   * store's creation that forgets a job at that cap deletes its webhook).
   */
  subscribe(clientId: ClientKey, jobId: number, target: WebhookTarget): Promise<WebhookDelivery[]>;
  subscription(clientId: ClientKey, jobId: number): Promise<StoredSubscription | undefined>;
  /**
   * The job finished: its webhook may be forgotten once its deliveries settle, or at the cap
   * (memory).
   */
  finished(clientId: ClientKey, jobId: number): void;
  delivery(
    clientId: ClientKey,
    jobId: number,
    deliveryId: string,
  ): Promise<WebhookDelivery | undefined>;
  /**
   * Stores a new delivery of an event, unless that event of the job has one already (an event
   * announced again, after an instance died before queueing it), or it is a `progress` one and the
   * job's final delivery exists (a change heard late: the final one covers it): returns the one
   * kept. Atomic: a progress and the final added at once never leave the progress after it.
   */
  addDelivery(delivery: WebhookDelivery): Promise<WebhookDelivery>;
  /** Stores a delivery's new state. */
  saveDelivery(delivery: WebhookDelivery): Promise<void>;
  /** Marks the webhook gone (410) and its pending deliveries failed; returns those. */
  markGone(clientId: ClientKey, jobId: number): Promise<WebhookDelivery[]>;
  record(clientId: ClientKey, jobId: number, attempt: DeliveryAttempt): Promise<void>;
  /** Oldest first, the latest MAX_ATTEMPTS_KEPT. */
  attempts(clientId: ClientKey, jobId: number): Promise<DeliveryAttempt[]>;
}
