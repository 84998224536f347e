import { ownerOf } from '../domain/client.js';
import { type WebhookDelivery } from './webhook-delivery.js';

/** Injection token of the delivery queue: in this process now, a BullMQ `webhooks` queue later. */
export const WEBHOOK_QUEUE = Symbol('WebhookQueue');

/** Which delivery is due: the queue carries no more, the state (WebhookState) has the rest. */
export type DeliveryRef = Pick<WebhookDelivery, 'clientId' | 'jobId' | 'deliveryId' | 'host'>;

/**
 * The budgets an attempt counts against, by key: its receiving host's and its client's owner's,
 * the API key under which it may mint any number of uuids (each queue sets how many attempts each
 * may have in flight). Without keys the owner is the uuid (review of 2026-12-01: one key's four
 * uuids took every slot).
 */
export const budgetKeysOf = ({
  host,
  clientId,
}: Pick<DeliveryRef, 'host' | 'clientId'>): [host: string, client: string] => [
  `h:${host ?? ''}`,
  `c:${ownerOf(clientId)}`,
];

/** Makes one attempt of a delivery; never rejects. */
export type DeliveryHandler = (delivery: DeliveryRef) => Promise<void>;

/**
 * Holds deliveries until they are due and hands each to the handler then (at least once). A port,
 * like JobRunner: the memory driver's timers lose pending retries on restart; a BullMQ queue's
 * delayed jobs would not.
 */
export interface WebhookQueue {
  /** Sets what an attempt does; called once, before anything is scheduled. */
  process(handler: DeliveryHandler): void;
  /**
   * Hands `delivery` to the handler at `dueAt` (ms since the epoch; past: at once). Replaces an
   * earlier schedule of the same delivery; the same attempt scheduled twice is made once. Settles
   * once the attempt is kept where a restart finds it, for a queue that can (a rejection is
   * logged by the caller).
   */
  schedule(delivery: WebhookDelivery, dueAt: number): void | Promise<void>;
  /** Forgets a delivery not yet handed over (a queue that cannot hands it over, and it is skipped). */
  cancel(deliveryId: string): void;
  /** Deliveries scheduled and not yet handed over, for health and leak checks. */
  readonly size: number;
}
