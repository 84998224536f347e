import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { MinHeap } from '../scheduling/min-heap.js';
import { type WebhookDelivery } from './webhook-delivery.js';
import { type DeliveryHandler, type WebhookQueue } from './webhook-queue.js';
import { EarliestTimer } from '../scheduling/earliest-timer.js';

interface Entry {
  delivery: WebhookDelivery;
  due: number;
  order: number;
}

/** Attempts in flight at once: a burst of finished jobs must not open thousands of sockets. */
const MAX_IN_FLIGHT = 256;

/**
 * The memory driver's queue: one timer for every delivery (like SimulatedJobRunner, issue 18), the
 * deliveries in a min-heap by due time. A restart loses what it holds (docs/design.md, "Webhooks").
 */
@Injectable()
export class InMemoryWebhookQueue implements WebhookQueue, OnModuleDestroy {
  private readonly heap = new MinHeap<Entry>(
    (a, b) => a.due < b.due || (a.due === b.due && a.order < b.order),
  );
  /** The live entry of each delivery: an entry replaced or cancelled stays in the heap, skipped. */
  private readonly current = new Map<string, Entry>();
  private handler: DeliveryHandler | undefined;
  private order = 0;
  private inFlight = 0;
  private readonly timer = new EarliestTimer(() => this.fire());
  private closed = false;

  get size(): number {
    return this.current.size;
  }

  process(handler: DeliveryHandler): void {
    this.handler = handler;
  }

  schedule(delivery: WebhookDelivery, dueAt: number): void {
    if (this.closed) return;
    const entry: Entry = { delivery, due: dueAt, order: this.order++ };
    this.current.set(delivery.deliveryId, entry);
    this.heap.push(entry);
    this.arm();
  }

  cancel(deliveryId: string): void {
    this.current.delete(deliveryId);
  }

  onModuleDestroy(): void {
    this.closed = true;
    this.timer.clear();
    this.heap.clear();
    this.current.clear();
  }

  private live(entry: Entry): boolean {
    return this.current.get(entry.delivery.deliveryId) === entry;
  }

  private arm(): void {
    let next = this.heap.peek();
    while (next && !this.live(next)) {
      this.heap.pop();
      next = this.heap.peek();
    }
    if (next && this.inFlight < MAX_IN_FLIGHT) this.timer.setFor(next.due);
  }

  private fire(): void {
    const now = Date.now();
    for (let entry = this.heap.peek(); entry && entry.due <= now; entry = this.heap.peek()) {
      if (this.inFlight >= MAX_IN_FLIGHT) break;
      this.heap.pop();
      if (!this.live(entry)) continue;
      this.current.delete(entry.delivery.deliveryId);
      this.inFlight += 1;
      const done = (): void => {
        this.inFlight -= 1;
        if (!this.closed) this.arm();
      };
      (this.handler?.(entry.delivery) ?? Promise.resolve()).then(done, done);
    }
    this.arm();
  }
}
