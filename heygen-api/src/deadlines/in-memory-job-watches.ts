import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { type ClientKey } from '../domain/client.js';
import { EarliestTimer } from '../scheduling/earliest-timer.js';
import { JobWatches, unwatchOnce, type Unwatch } from './job-watches.js';

/** One job that asked to be cancelled once nobody watches it (`cancelWhenUnwatched`). */
interface Watched {
  afterMs: number;
  /** When it was last watched, ms since the epoch. */
  lastWatched: number;
  /** Held waits listing it by id, open now: watched as long as any is. */
  holds: number;
}

/** A client's jobs that opted in, and what watches all of its jobs at once. */
interface ClientWatches {
  jobs: Map<number, Watched>;
  /** Open streams and held waits without `ids` (every job of the client). */
  holds: number;
}

const NOTHING: Unwatch = () => {};

/** The sweep never runs more often than this, however many jobs are due. */
const MIN_SWEEP_GAP_MS = 100;

/**
 * Who watches the jobs that opted into `cancelWhenUnwatched` (docs/protocol.md, "Deadlines";
 * docs/design.md, "Deadlines"), memory driver. A job is watched while a stream of its client is
 * open or a held wait lists it, and at every status read naming it; one unwatched for its time is
 * handed to `onUnwatched`. No timer per job: one sweep over the opted-in jobs, set for the earliest
 * time one could be due. A client none of whose jobs opted in costs a status read one map lookup.
 */
@Injectable()
export class InMemoryJobWatches implements JobWatches, OnModuleDestroy {
  private readonly clients = new Map<ClientKey, ClientWatches>();
  private readonly timer = new EarliestTimer(() => this.sweep());
  private unwatched: (clientId: ClientKey, id: number) => void = () => {};

  /** Who cancels a job found unwatched (JobsService; set once, at its construction). */
  onUnwatched(cancel: (clientId: ClientKey, id: number) => void): void {
    this.unwatched = cancel;
  }

  /** Jobs being watched for, for leak checks. */
  get size(): number {
    let count = 0;
    for (const client of this.clients.values()) count += client.jobs.size;
    return count;
  }

  /** A new job that is cancelled once unwatched for `afterMs` (again: kept as it is). */
  add(clientId: ClientKey, id: number, afterMs: number, now = Date.now()): void {
    const { jobs } = this.client(clientId);
    if (jobs.has(id)) return;
    jobs.set(id, { afterMs, lastWatched: now, holds: 0 });
    this.arm(now + afterMs, now);
  }

  /** The job finished: nothing to watch for any more. */
  forget(clientId: ClientKey, id: number): void {
    const client = this.clients.get(clientId);
    if (!client?.jobs.delete(id)) return;
    this.dropIfIdle(clientId, client);
  }

  /**
   * A status read or held wait starts watching `ids` of the client (undefined: all of its jobs);
   * watched until the returned function is called, which a plain read does at once.
   */
  watch(clientId: ClientKey, ids: readonly number[] | undefined): Unwatch {
    // Before the look for opted-in jobs: a held batch without `ids` also watches the jobs created
    // while it is held (review of 2026-12-01: one was cancelled as unwatched, listed by it).
    if (ids === undefined) return this.watchAll(clientId);
    const client = this.clients.get(clientId);
    if (!client || client.jobs.size === 0) return NOTHING;
    const now = Date.now();
    const watched: Watched[] = [];
    for (const id of ids) {
      const job = client.jobs.get(id);
      if (!job) continue;
      job.holds += 1;
      job.lastWatched = now;
      watched.push(job);
    }
    if (watched.length === 0) return NOTHING;
    return unwatchOnce(() => {
      const at = Date.now();
      for (const job of watched) {
        job.holds -= 1;
        job.lastWatched = at;
      }
    });
  }

  onModuleDestroy(): void {
    this.timer.clear();
    this.clients.clear();
  }

  /** Finds the jobs unwatched for their time, hands them over, and sets the next sweep. */
  sweep(now = Date.now()): void {
    // Called by its timer, or directly (tests): the next sweep is set again below.
    this.timer.clear();
    const due: Array<[ClientKey, number]> = [];
    let next = Infinity;
    for (const [clientId, client] of this.clients) {
      for (const [id, job] of client.jobs) {
        if (client.holds > 0 || job.holds > 0) job.lastWatched = now;
        const expiry = job.lastWatched + job.afterMs;
        if (expiry <= now) {
          client.jobs.delete(id);
          due.push([clientId, id]);
        } else {
          next = Math.min(next, expiry);
        }
      }
      this.dropIfIdle(clientId, client);
    }
    this.arm(next, now);
    for (const [clientId, id] of due) this.unwatched(clientId, id);
  }

  /**
   * An open stream watches every job of its client, those created while it is open too: kept even
   * while none of its jobs opted in.
   */
  watchAll(clientId: ClientKey): Unwatch {
    const client = this.client(clientId);
    client.holds += 1;
    return unwatchOnce(() => {
      client.holds -= 1;
      const at = Date.now();
      for (const job of client.jobs.values()) job.lastWatched = at;
      this.dropIfIdle(clientId, client);
    });
  }

  private client(clientId: ClientKey): ClientWatches {
    let client = this.clients.get(clientId);
    if (!client) {
      client = { jobs: new Map(), holds: 0 };
      this.clients.set(clientId, client);
    }
    return client;
  }

  private dropIfIdle(clientId: ClientKey, client: ClientWatches): void {
    if (client.jobs.size > 0 || client.holds > 0) return;
    if (this.clients.get(clientId) === client) this.clients.delete(clientId);
  }

  /** Sets the one timer for `due` (at least MIN_SWEEP_GAP_MS away), unless it fires sooner. */
  private arm(due: number, now: number): void {
    if (due === Infinity) return;
    this.timer.setFor(Math.max(due, now + MIN_SWEEP_GAP_MS));
  }
}
