import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { MinHeap } from '../scheduling/min-heap.js';
import { type WebhookDelivery } from './webhook-delivery.js';
import { type DeliveryHandler, type WebhookQueue } from './webhook-queue.js';
import { EarliestTimer } from '../scheduling/earliest-timer.js';
import { MAX_SOCKETS_PER_HOST } from './webhook-sender.js';

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
 * One receiving host has at most as many attempts in flight as it may have sockets: beyond that
 * they would only wait for one, holding slots every other host's deliveries need (a host that
 * accepts and never answers held all 256 for WEBHOOK_TIMEOUT_MS each). Its next deliveries wait
 * aside, in due order, until one of its attempts ends.
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
  /** Attempts in flight by receiving host, and the due deliveries waiting for one of them. */
  private readonly hosts = new Map<string, { inFlight: number; waiting: Entry[] }>();
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
    this.hosts.clear();
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
      if (!this.live(entry)) {
        // It may have been its host's next in line: the one after it goes instead.
        this.resume(entry.delivery.host ?? '');
        continue;
      }
      const host = this.hostOf(entry.delivery);
      if (host.inFlight >= MAX_SOCKETS_PER_HOST) {
        host.waiting.push(entry);
        continue;
      }
      this.current.delete(entry.delivery.deliveryId);
      this.inFlight += 1;
      host.inFlight += 1;
      const done = (): void => {
        this.inFlight -= 1;
        host.inFlight -= 1;
        this.resume(entry.delivery.host ?? '');
        if (!this.closed) this.arm();
      };
      (this.handler?.(entry.delivery) ?? Promise.resolve()).then(done, done);
    }
    this.arm();
  }

  /** A host with room again: its earliest waiting delivery goes back in line; idle, it is forgotten. */
  private resume(name: string): void {
    const host = this.hosts.get(name);
    if (!host || host.inFlight >= MAX_SOCKETS_PER_HOST) return;
    let next = host.waiting.shift();
    while (next && !this.live(next)) next = host.waiting.shift();
    if (next) this.heap.push(next);
    else if (host.inFlight === 0) this.hosts.delete(name);
  }

  private hostOf(delivery: WebhookDelivery): { inFlight: number; waiting: Entry[] } {
    const name = delivery.host ?? '';
    let host = this.hosts.get(name);
    if (!host) {
      host = { inFlight: 0, waiting: [] };
      this.hosts.set(name, host);
    }
    return host;
  }
}
