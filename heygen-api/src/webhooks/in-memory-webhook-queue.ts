import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { MinHeap } from '../scheduling/min-heap.js';
import { type WebhookDelivery } from './webhook-delivery.js';
import { budgetKeysOf, type DeliveryHandler, type WebhookQueue } from './webhook-queue.js';
import { EarliestTimer } from '../scheduling/earliest-timer.js';
import { MAX_SOCKETS_PER_HOST } from './webhook-sender.js';

interface Entry {
  /** Undefined once the entry is dead (cancelled or replaced): its body is not held on to. */
  delivery: WebhookDelivery | undefined;
  /** The delivery's, for its lanes (budgetsOf), kept when the delivery is let go. */
  clientId: string;
  host: string;
  due: number;
  order: number;
}

/** Dead entries the heap may hold however few are live: rebuilding for so few costs more. */
const COMPACT_ABOVE = 64;

/** Attempts in flight at once: a burst of finished jobs must not open thousands of sockets. */
const MAX_IN_FLIGHT = 256;
/**
 * Attempts one client's deliveries have in flight at once, whatever hosts they go to: a client
 * aiming its webhooks at many slow hosts must leave slots to every other client.
 */
export const MAX_IN_FLIGHT_PER_CLIENT = MAX_IN_FLIGHT / 4;

/** Attempts in flight for one receiving host or one client, and the due deliveries waiting. */
interface Lane {
  limit: number;
  inFlight: number;
  waiting: Entry[];
}

/**
 * The memory driver's queue: one timer for every delivery (like SimulatedJobRunner, issue 18), the
 * deliveries in a min-heap by due time. A restart loses what it holds (docs/design.md, "Webhooks").
 * One receiving host has at most as many attempts in flight as it may have sockets: beyond that
 * they would only wait for one, holding slots every other host's deliveries need (a host that
 * accepts and never answers held all 256 for WEBHOOK_TIMEOUT_MS each). One client has at most a
 * quarter of the slots, across every host it aims at. A delivery past either budget waits aside
 * in its lane, in due order, until one of the lane's attempts ends.
 */
@Injectable()
export class InMemoryWebhookQueue implements WebhookQueue, OnModuleDestroy {
  private readonly heap = new MinHeap<Entry>(
    (a, b) => a.due < b.due || (a.due === b.due && a.order < b.order),
  );
  /**
   * The live entry of each delivery, in the heap or waiting in a lane. An entry replaced or
   * cancelled lets its delivery go and stays in the heap, skipped when it comes to the top, until
   * the dead outnumber the live: then the heap is rebuilt without them (compact). Cancelled
   * entries stayed for good before, each with its body: a finished job's delivery retried for
   * hours, given up at MAX_RETAINED_JOBS, was held until due (review of 2026-12-02).
   */
  private readonly current = new Map<string, Entry>();
  private handler: DeliveryHandler | undefined;
  private order = 0;
  private inFlight = 0;
  /** Lanes by receiving host (`h:<host>`) and by client (`c:<client>`). */
  private readonly lanes = new Map<string, Lane>();
  private readonly timer = new EarliestTimer(() => this.fire());
  private closed = false;

  get size(): number {
    return this.current.size;
  }

  /** Lanes held (hosts and clients with attempts in flight or waiting), for leak checks. */
  get lanesHeld(): number {
    return this.lanes.size;
  }

  /** Entries in the heap, dead ones included, for leak checks. */
  get entriesHeld(): number {
    return this.heap.size;
  }

  process(handler: DeliveryHandler): void {
    this.handler = handler;
  }

  schedule(delivery: WebhookDelivery, dueAt: number): void {
    if (this.closed) return;
    const { deliveryId, clientId, host = '' } = delivery;
    const entry: Entry = { delivery, clientId, host, due: dueAt, order: this.order++ };
    const replaced = this.current.get(deliveryId);
    if (replaced) replaced.delivery = undefined;
    this.current.set(deliveryId, entry);
    this.heap.push(entry);
    if (replaced) this.compactWhenMostlyDead();
    this.arm();
  }

  cancel(deliveryId: string): void {
    const entry = this.current.get(deliveryId);
    if (!entry) return;
    entry.delivery = undefined;
    this.current.delete(deliveryId);
    this.compactWhenMostlyDead();
  }

  onModuleDestroy(): void {
    this.closed = true;
    this.timer.clear();
    this.heap.clear();
    this.current.clear();
    this.lanes.clear();
  }

  private live(entry: Entry): boolean {
    return entry.delivery !== undefined;
  }

  /**
   * Rebuilds the heap from its live entries once the dead outnumber them: O(n), so at most once
   * per as many cancels as the heap then holds. The heap holds the live entries and at most as
   * many dead ones, or COMPACT_ABOVE. A dead entry may have been its lanes' next in line: the
   * lanes are resumed, as `fire` does when it pops one.
   */
  private compactWhenMostlyDead(): void {
    // Every live entry is in `current`, in the heap or in a lane: at least the rest is dead.
    const dead = this.heap.size - this.current.size;
    if (dead <= COMPACT_ABOVE || dead <= this.current.size) return;
    const lanes = new Set<string>();
    this.heap.retain((entry) => {
      if (this.live(entry)) return true;
      for (const [key] of budgetsOf(entry)) lanes.add(key);
      return false;
    });
    for (const key of lanes) this.resume(key);
    this.arm();
  }

  private arm(): void {
    let next = this.heap.peek();
    while (next && !this.live(next)) {
      this.heap.pop();
      // Its lanes' next in line, maybe, as in `fire`: dropped without this, it left the ones
      // waiting behind it there for good once the lane's attempts had ended.
      for (const [key] of budgetsOf(next)) this.resume(key);
      next = this.heap.peek();
    }
    if (next && this.inFlight < MAX_IN_FLIGHT) this.timer.setFor(next.due);
  }

  private fire(): void {
    const now = Date.now();
    for (let entry = this.heap.peek(); entry && entry.due <= now; entry = this.heap.peek()) {
      if (this.inFlight >= MAX_IN_FLIGHT) break;
      this.heap.pop();
      const budgets = budgetsOf(entry);
      const delivery = entry.delivery;
      if (!delivery) {
        // It may have been its lanes' next in line: the one after it goes instead.
        for (const [key] of budgets) this.resume(key);
        continue;
      }
      // A full lane exists (it has attempts in flight); the others are made only for an attempt,
      // so that no lane is left behind empty.
      const full = budgets.find(([key, limit]) => (this.lanes.get(key)?.inFlight ?? 0) >= limit);
      if (full) {
        this.lanes.get(full[0])!.waiting.push(entry);
        continue;
      }
      const lanes = budgets.map(([key, limit]) => this.lane(key, limit));
      this.current.delete(delivery.deliveryId);
      this.inFlight += 1;
      for (const [, lane] of lanes) lane.inFlight += 1;
      const done = (): void => {
        this.inFlight -= 1;
        for (const [key, lane] of lanes) {
          lane.inFlight -= 1;
          this.resume(key);
        }
        if (!this.closed) this.arm();
      };
      (this.handler?.(delivery) ?? Promise.resolve()).then(done, done);
    }
    this.arm();
  }

  /** A lane with room again: its earliest waiting delivery goes back in line; idle, it is forgotten. */
  private resume(key: string): void {
    const lane = this.lanes.get(key);
    if (!lane || lane.inFlight >= lane.limit) return;
    let next = lane.waiting.shift();
    while (next && !this.live(next)) next = lane.waiting.shift();
    if (next) this.heap.push(next);
    else if (lane.inFlight === 0) this.lanes.delete(key);
  }

  private lane(key: string, limit: number): [string, Lane] {
    let lane = this.lanes.get(key);
    if (!lane) {
      lane = { limit, inFlight: 0, waiting: [] };
      this.lanes.set(key, lane);
    }
    return [key, lane];
  }
}

/** A delivery's lanes, by key, with their limits: its receiving host's and its client's. */
const budgetsOf = (entry: Pick<Entry, 'clientId' | 'host'>): [string, number][] => {
  const [host, client] = budgetKeysOf(entry);
  return [
    [host, MAX_SOCKETS_PER_HOST],
    [client, MAX_IN_FLIGHT_PER_CLIENT],
  ];
};
