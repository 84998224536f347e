import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import { type ClientKey } from '../domain/client.js';
import { isFinished, newJob, type Job, type JobRecord } from '../domain/job.js';
import { canForget, nextId } from '../domain/sequence.js';
import { type JobEvent } from '../events/job-events.js';
import { type CreateResult, type JobDraft, type JobStore } from './job-store.js';
import { pageOf, type ListPage } from './list-page.js';
import {
  pack,
  repack,
  stampEvent,
  unpack,
  type PackedClient,
  type PackedJob,
} from './packed-job.js';

interface ClientJobs extends PackedClient {
  /** The client's id sequence: the last id it was given. */
  lastId: number;
  /** By id; in creation order, which is id order. */
  jobs: Map<number, PackedJob>;
  /** The client's finished jobs, oldest finish first: the order its own limit evicts them in. */
  finished: Set<PackedJob>;
  byIdempotencyKey: Map<string, number>;
  /** Set while the client, left with no job, waits for the clock to pass its last id. */
  forgetTimer?: NodeJS.Timeout;
}

/**
 * A job store in this process's memory, indexed by client. Bounded: finished jobs are forgotten
 * `RETENTION_MS` after they finish, or sooner when their client keeps too many jobs or the server
 * keeps `MAX_RETAINED_JOBS` (oldest finish first, unfinished jobs never); a client with no job left
 * is forgotten altogether.
 *
 * Cheap per job (issue 10): jobs are kept packed (packed-job.ts), and every finished job waits in
 * one queue, in the order it finished, under one timer, instead of a timer each: retention is the
 * same for all, so the oldest finish is always the next to expire.
 */
@Injectable()
export class InMemoryJobStore implements JobStore, OnModuleDestroy {
  private readonly clients = new Map<ClientKey, ClientJobs>();
  /** Finished jobs of every client, oldest finish first. */
  private readonly finished = new Set<PackedJob>();
  private expiryTimer: NodeJS.Timeout | undefined;
  /** Unfinished jobs of every client. */
  private active = 0;
  /**
   * `Cancel-After` deadlines of unfinished jobs, what their poll hints point to: kept apart from
   * the packed records, since few jobs have one and a finished job needs none.
   */
  private readonly deadlines = new Map<PackedJob, number>();
  /**
   * With MAX_ACTIVE_JOBS_PER_ADDRESS on: each address's unfinished jobs, and the address of each
   * unfinished job that counts in them (apart, like the deadlines: nothing when it is off).
   */
  private readonly activeByAddress = new Map<string, number>();
  private readonly addresses = new Map<PackedJob, string>();

  constructor(@Inject(AppConfig) private readonly config: AppConfig) {}

  create(draft: JobDraft): Promise<CreateResult> {
    const { clientId, limits } = draft;
    const client = this.clients.get(clientId) ?? newClientJobs(clientId);
    if (draft.idempotency) {
      const existing = client.byIdempotencyKey.get(draft.idempotency.key);
      const packed = existing === undefined ? undefined : client.jobs.get(existing);
      if (packed) return Promise.resolve({ outcome: 'existing', record: this.unpack(packed) });
    }
    const activeOfClient = client.jobs.size - client.finished.size;
    if (activeOfClient >= limits.activePerClient) {
      return Promise.resolve({ outcome: 'limit', limit: 'client' });
    }
    const address = limits.activePerAddress ? draft.address : undefined;
    if (
      address !== undefined &&
      (this.activeByAddress.get(address) ?? 0) >= limits.activePerAddress!
    ) {
      return Promise.resolve({ outcome: 'limit', limit: 'address' });
    }
    if (this.active >= limits.active) return Promise.resolve({ outcome: 'limit', limit: 'server' });
    // Room is made by forgetting the oldest finished job: an unfinished one is never evicted, and
    // there is always a finished one here, since activePerClient ≤ keptPerClient (config).
    const evicted = { perClient: 0, retained: 0 };
    while (client.jobs.size >= limits.keptPerClient && client.finished.size > 0) {
      this.forget(client.finished.values().next().value!);
      evicted.perClient += 1;
    }
    if (client.jobs.size >= limits.keptPerClient) {
      return Promise.resolve({ outcome: 'limit', limit: 'client' });
    }
    // The same for the server's cap; MAX_ACTIVE_JOBS < MAX_RETAINED_JOBS (config) leaves room.
    while (this.retained >= this.config.maxRetainedJobs && this.finished.size > 0) {
      this.forget(this.finished.values().next().value!);
      evicted.retained += 1;
    }

    client.lastId = nextId(client.lastId, draft.now);
    const record: JobRecord = {
      job: newJob(client.lastId, draft.duration, draft.now),
      clientId,
      fail: draft.fail,
      ...(draft.idempotency && { idempotency: draft.idempotency }),
      ...(draft.cancelAt !== undefined && { cancelAt: draft.cancelAt }),
    };
    clearTimeout(client.forgetTimer);
    delete client.forgetTimer;
    this.clients.set(clientId, client);
    const packed = pack(record, client);
    client.jobs.set(record.job.id, packed);
    if (draft.cancelAt !== undefined) this.deadlines.set(packed, draft.cancelAt);
    if (address !== undefined) {
      this.addresses.set(packed, address);
      this.activeByAddress.set(address, (this.activeByAddress.get(address) ?? 0) + 1);
      record.address = address;
    }
    this.active += 1;
    if (draft.idempotency) client.byIdempotencyKey.set(draft.idempotency.key, record.job.id);
    return Promise.resolve({ outcome: 'created', record, evicted });
  }

  get(clientId: ClientKey, id: number): Promise<JobRecord | undefined> {
    const packed = this.clients.get(clientId)?.jobs.get(id);
    return Promise.resolve(packed && this.unpack(packed));
  }

  listByClient(clientId: ClientKey): Promise<JobRecord[]> {
    const packed = [...(this.clients.get(clientId)?.jobs.values() ?? [])];
    return Promise.resolve(packed.map((job) => this.unpack(job)));
  }

  listPage(clientId: ClientKey, which: ListPage): Promise<{ records: JobRecord[]; more: boolean }> {
    // The map keeps the jobs in creation order, which is id order.
    const all = [...(this.clients.get(clientId)?.jobs.values() ?? [])];
    const { page, more } = pageOf(all, which, (job) => job.id);
    return Promise.resolve({ records: page.map((job) => this.unpack(job)), more });
  }

  update(
    clientId: ClientKey,
    id: number,
    change: (job: Job) => Job | undefined,
  ): Promise<JobRecord | undefined> {
    const client = this.clients.get(clientId);
    const packed = client?.jobs.get(id);
    if (!client || !packed) return Promise.resolve(undefined);
    const record = this.unpack(packed);
    const next = change(record.job);
    if (!next) return Promise.resolve(undefined);
    const wasFinished = isFinished(record.job);
    repack(packed, next);
    if (!wasFinished && isFinished(next)) this.onFinished(packed, client);
    // `unpack` built this record for this call alone: set, not spread into a copy.
    record.job = next;
    return Promise.resolve(record);
  }

  recordEvent(event: JobEvent): Promise<void> {
    const packed = this.clients.get(event.clientId)?.jobs.get(event.job.id);
    if (packed) stampEvent(packed, event.job);
    return Promise.resolve();
  }

  /** Unfinished jobs of every client (leak checks). */
  get activeCount(): number {
    return this.active;
  }

  /** Jobs kept, finished or not, of every client. */
  get retained(): number {
    return this.active + this.finished.size;
  }

  /** Clients the store holds anything for (leak checks). */
  get clientCount(): number {
    return this.clients.size;
  }

  onModuleDestroy(): void {
    clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
    for (const client of this.clients.values()) clearTimeout(client.forgetTimer);
  }

  /** The record as the rest of the server sees it, with its deadline when it has one. */
  private unpack(packed: PackedJob): JobRecord {
    const record = unpack(packed);
    const cancelAt = this.deadlines.get(packed);
    if (cancelAt !== undefined) record.cancelAt = cancelAt;
    const address = this.addresses.get(packed);
    if (address !== undefined) record.address = address;
    return record;
  }

  private onFinished(packed: PackedJob, client: ClientJobs): void {
    this.deadlines.delete(packed);
    const address = this.addresses.get(packed);
    if (address !== undefined) {
      this.addresses.delete(packed);
      const left = this.activeByAddress.get(address)! - 1;
      if (left > 0) this.activeByAddress.set(address, left);
      else this.activeByAddress.delete(address);
    }
    this.active -= 1;
    client.finished.add(packed);
    this.finished.add(packed);
    if (this.finished.size === 1) this.armExpiry();
  }

  /** Sets the one timer for the oldest finished job's expiry. */
  private armExpiry(): void {
    clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
    const oldest = this.finished.values().next().value;
    if (!oldest) return;
    const delay = oldest.finishedAt! + this.config.retentionMs - Date.now();
    this.expiryTimer = setTimeout(() => this.expire(), Math.max(0, delay));
    // The HTTP server keeps the process alive; a closed app must not be held by its jobs.
    this.expiryTimer.unref();
  }

  private expire(): void {
    const horizon = Date.now() - this.config.retentionMs;
    for (const packed of this.finished) {
      if (packed.finishedAt! > horizon) break;
      this.forget(packed);
    }
    this.armExpiry();
  }

  /** Forgets a finished job (expired or evicted): it answers 404 from now on. */
  private forget(packed: PackedJob): void {
    const client = packed.client as ClientJobs;
    this.finished.delete(packed);
    if (client.jobs.get(packed.id) !== packed) return;
    client.jobs.delete(packed.id);
    client.finished.delete(packed);
    if (packed.idempotency) client.byIdempotencyKey.delete(packed.idempotency.key);
    if (client.jobs.size === 0) this.forgetClient(client);
  }

  /** Drops a client left with no job, once no id it was given can come again (domain/sequence.ts). */
  private forgetClient(client: ClientJobs): void {
    if (client.jobs.size > 0 || this.clients.get(client.key) !== client) return;
    const now = Date.now();
    if (canForget(client.lastId, now)) {
      this.clients.delete(client.key);
      return;
    }
    clearTimeout(client.forgetTimer);
    client.forgetTimer = setTimeout(() => this.forgetClient(client), client.lastId - now + 1);
    client.forgetTimer.unref();
  }
}

function newClientJobs(clientId: ClientKey): ClientJobs {
  return {
    key: flatCopy(clientId),
    lastId: 0,
    jobs: new Map(),
    finished: new Set(),
    byIdempotencyKey: new Map(),
  };
}

/** A string that shares no memory with its source (V8 slices long substrings out of their parent). */
function flatCopy(text: string): string {
  return Buffer.from(text, 'utf8').toString('utf8');
}
