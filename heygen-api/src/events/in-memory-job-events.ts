import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import { type ClientKey } from '../domain/client.js';
import { withEventId, type Job } from '../domain/job.js';
import { canForget, nextId } from '../domain/sequence.js';
import { type JobEvent, type JobEventListener, type JobEvents } from './job-events.js';
import { ReplayLog } from './replay-log.js';

/** One client's event sequence. */
interface ClientEvents {
  /** The id of the client's latest event. */
  last: number;
  /**
   * Resuming is possible from this id on: every event of the client after it is still in the log
   * (the latest id pushed out of the log, or, for a sequence begun afresh, the clock at its start
   * minus one, which is at least every id a forgotten sequence of this client gave).
   */
  floor: number;
  /** Events of the client in the log. */
  logged: number;
  listeners: Set<JobEventListener>;
  /** Set while the client, with nothing left here, waits for the clock to pass its last id. */
  forgetTimer?: NodeJS.Timeout;
}

interface Logged {
  seq: number;
  event: JobEvent;
}

/**
 * Fan-out inside one process. Subscribers are indexed by client, so publishing costs the number of
 * that client's streams, not the number of all streams. Event ids are counted per client; the
 * replay log is shared, the last `REPLAY_LOG_SIZE` events of all clients.
 */
@Injectable()
export class InMemoryJobEvents implements JobEvents, OnModuleDestroy {
  private readonly log: ReplayLog<Logged>;
  private readonly clients = new Map<ClientKey, ClientEvents>();
  /**
   * The last id of clients with nothing left here, most recently retired last, at most
   * `retiredLimit` of them: a client back within that many is resumed from where it was; one
   * retired longer ago starts a fresh sequence and gets a snapshot.
   */
  private readonly retired = new Map<ClientKey, number>();
  private readonly retiredLimit: number;
  private subscriptions = 0;

  constructor(@Inject(AppConfig) config: AppConfig) {
    this.log = new ReplayLog(config.replayLogSize);
    this.retiredLimit = config.replayLogSize;
  }

  publish(clientId: ClientKey, job: Job): Promise<JobEvent> {
    const client = this.client(clientId);
    client.last = nextId(client.last, Date.now());
    const id = String(client.last);
    const event: JobEvent = { id, clientId, job: withEventId(job, id) };
    client.logged += 1;
    const evicted = this.log.append({ seq: client.last, event });
    if (evicted) this.onEvicted(evicted);
    for (const listener of client.listeners) listener(event);
    return Promise.resolve(event);
  }

  subscribe(clientId: ClientKey, listener: JobEventListener): () => void {
    const client = this.client(clientId);
    // A wrapper, so the same function subscribed twice is two subscriptions.
    const subscription: JobEventListener = (event) => listener(event);
    client.listeners.add(subscription);
    this.subscriptions += 1;
    let active = true;
    return () => {
      if (!active) return;
      active = false;
      this.subscriptions -= 1;
      client.listeners.delete(subscription);
      this.maybeForget(clientId, client);
    };
  }

  replay(clientId: ClientKey, afterId: string, limit = Infinity): Promise<JobEvent[] | undefined> {
    const after = /^\d{1,16}$/.test(afterId) ? Number(afterId) : NaN;
    const client = this.clients.get(clientId);
    // Retired, nothing of it is kept but its last id: from there, it has missed nothing.
    if (!client) return Promise.resolve(this.retired.get(clientId) === after ? [] : undefined);
    if (!Number.isSafeInteger(after) || after < client.floor || after > client.last) {
      return Promise.resolve(undefined);
    }
    const events = this.log
      .filter(({ seq, event }) => event.clientId === clientId && seq > after)
      .map(({ event }) => event);
    return Promise.resolve(events.length > limit ? events.slice(0, limit) : events);
  }

  head(clientId: ClientKey): Promise<string> {
    // A client with no sequence yet: a fresh one starts right there, and is remembered as retired,
    // so that its first events resume from this head (review of 2026-12-01: once the clock had
    // moved on, the sequence began above the head handed out, and a resume from it was refused).
    const client = this.client(clientId);
    this.maybeForget(clientId, client);
    return Promise.resolve(String(client.last));
  }

  subscriptionCount(): number {
    return this.subscriptions;
  }

  /** Clients with a live sequence kept (leak checks); retired ones are bounded apart. */
  get clientCount(): number {
    return this.clients.size;
  }

  onModuleDestroy(): void {
    for (const client of this.clients.values()) clearTimeout(client.forgetTimer);
  }

  private client(clientId: ClientKey): ClientEvents {
    let client = this.clients.get(clientId);
    if (!client) {
      // Retired, its events were all out of the log: resumable from its last id, and no earlier.
      const start = this.retired.get(clientId) ?? Date.now() - 1;
      this.retired.delete(clientId);
      client = { last: start, floor: start, logged: 0, listeners: new Set() };
      this.clients.set(clientId, client);
    }
    clearTimeout(client.forgetTimer);
    delete client.forgetTimer;
    return client;
  }

  private onEvicted({ seq, event }: Logged): void {
    const client = this.clients.get(event.clientId);
    if (!client) return;
    client.logged -= 1;
    client.floor = Math.max(client.floor, seq);
    this.maybeForget(event.clientId, client);
  }

  /**
   * Retires a client's sequence once nothing refers to it (no event in the log, no subscriber) and
   * the clock has passed its last id, so a sequence begun afresh never repeats one.
   */
  private maybeForget(clientId: ClientKey, client: ClientEvents): void {
    if (client.logged > 0 || client.listeners.size > 0) return;
    if (this.clients.get(clientId) !== client) return;
    const now = Date.now();
    if (canForget(client.last, now)) {
      this.clients.delete(clientId);
      this.retired.set(clientId, client.last);
      if (this.retired.size > this.retiredLimit) {
        this.retired.delete(this.retired.keys().next().value!);
      }
      return;
    }
    clearTimeout(client.forgetTimer);
    client.forgetTimer = setTimeout(
      () => this.maybeForget(clientId, client),
      client.last - now + 1,
    );
    client.forgetTimer.unref();
  }
}
