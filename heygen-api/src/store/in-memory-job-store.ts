import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import { type ClientKey } from '../domain/client.js';
import { isFinished, newJob, type Job, type JobRecord } from '../domain/job.js';
import { canForget, nextId } from '../domain/sequence.js';
import { type CreateResult, type JobDraft, type JobStore } from './job-store.js';

interface ClientJobs {
  /** The client's id sequence: the last id it was given. */
  lastId: number;
  /** By id; in creation order, which is id order. */
  jobs: Map<number, JobRecord>;
  /** Ids of the finished jobs, oldest finish first: the order they are evicted and expire in. */
  finished: Set<number>;
  byIdempotencyKey: Map<string, number>;
  /** Set while the client, left with no job, waits for the clock to pass its last id. */
  forgetTimer?: NodeJS.Timeout;
}

/**
 * A job store in this process's memory, indexed by client. Bounded: finished jobs are forgotten
 * `retentionMs` after they finish, or sooner when their client keeps too many jobs; a client with
 * no job left is forgotten altogether.
 */
@Injectable()
export class InMemoryJobStore implements JobStore, OnModuleDestroy {
  private readonly clients = new Map<ClientKey, ClientJobs>();
  private readonly expiries = new Map<JobRecord, NodeJS.Timeout>();
  /** Unfinished jobs of every client. */
  private active = 0;

  constructor(@Inject(AppConfig) private readonly config: AppConfig) {}

  create(draft: JobDraft): Promise<CreateResult> {
    const { clientId, limits } = draft;
    const client = this.clients.get(clientId) ?? newClientJobs();
    if (draft.idempotency) {
      const existing = client.byIdempotencyKey.get(draft.idempotency.key);
      const record = existing === undefined ? undefined : client.jobs.get(existing);
      if (record) return Promise.resolve({ outcome: 'existing', record });
    }
    const activeOfClient = client.jobs.size - client.finished.size;
    if (activeOfClient >= limits.activePerClient) {
      return Promise.resolve({ outcome: 'limit', limit: 'client' });
    }
    if (this.active >= limits.active) return Promise.resolve({ outcome: 'limit', limit: 'server' });
    // Room is made by forgetting the oldest finished job: an unfinished one is never evicted, and
    // there is always a finished one here, since activePerClient ≤ keptPerClient (config).
    while (client.jobs.size >= limits.keptPerClient && client.finished.size > 0) {
      const oldest = client.jobs.get(client.finished.values().next().value!)!;
      this.forget(oldest, client);
    }
    if (client.jobs.size >= limits.keptPerClient) {
      return Promise.resolve({ outcome: 'limit', limit: 'client' });
    }

    client.lastId = nextId(client.lastId, draft.now);
    const record: JobRecord = {
      job: newJob(client.lastId, draft.duration, draft.now),
      clientId,
      fail: draft.fail,
      ...(draft.idempotency && { idempotency: draft.idempotency }),
    };
    clearTimeout(client.forgetTimer);
    delete client.forgetTimer;
    this.clients.set(clientId, client);
    client.jobs.set(record.job.id, record);
    this.active += 1;
    if (draft.idempotency) client.byIdempotencyKey.set(draft.idempotency.key, record.job.id);
    return Promise.resolve({ outcome: 'created', record });
  }

  get(clientId: ClientKey, id: number): Promise<JobRecord | undefined> {
    return Promise.resolve(this.clients.get(clientId)?.jobs.get(id));
  }

  listByClient(clientId: ClientKey): Promise<JobRecord[]> {
    return Promise.resolve([...(this.clients.get(clientId)?.jobs.values() ?? [])]);
  }

  update(
    clientId: ClientKey,
    id: number,
    change: (job: Job) => Job | undefined,
  ): Promise<JobRecord | undefined> {
    const client = this.clients.get(clientId);
    const record = client?.jobs.get(id);
    const next = record && change(record.job);
    if (!client || !record || !next) return Promise.resolve(undefined);
    const wasFinished = isFinished(record.job);
    // Records are replaced, never mutated: a reader holding the previous one keeps a consistent copy.
    const updated: JobRecord = { ...record, job: next };
    client.jobs.set(id, updated);
    if (!wasFinished && isFinished(next)) this.onFinished(updated, client);
    return Promise.resolve(updated);
  }

  /** Unfinished jobs of every client (leak checks). */
  get activeCount(): number {
    return this.active;
  }

  /** Clients the store holds anything for (leak checks). */
  get clientCount(): number {
    return this.clients.size;
  }

  onModuleDestroy(): void {
    for (const timer of this.expiries.values()) clearTimeout(timer);
    this.expiries.clear();
    for (const client of this.clients.values()) clearTimeout(client.forgetTimer);
  }

  private onFinished(record: JobRecord, client: ClientJobs): void {
    this.active -= 1;
    client.finished.add(record.job.id);
    // One timer per finished job, of one same delay: Node keeps those in one list, in O(1), and a
    // pending timer costs no CPU.
    const timer = setTimeout(() => this.forget(record, client), this.config.retentionMs);
    timer.unref();
    this.expiries.set(record, timer);
  }

  /** Forgets a finished job (expired or evicted): it answers 404 from now on. */
  private forget(record: JobRecord, client: ClientJobs): void {
    const { job, clientId, idempotency } = record;
    const stored = client.jobs.get(job.id);
    if (!stored) return;
    clearTimeout(this.expiries.get(stored));
    this.expiries.delete(stored);
    client.jobs.delete(job.id);
    client.finished.delete(job.id);
    if (idempotency) client.byIdempotencyKey.delete(idempotency.key);
    if (client.jobs.size === 0) this.forgetClient(clientId, client);
  }

  /** Drops a client left with no job, once no id it was given can come again (domain/sequence.ts). */
  private forgetClient(clientId: ClientKey, client: ClientJobs): void {
    if (client.jobs.size > 0 || this.clients.get(clientId) !== client) return;
    const now = Date.now();
    if (canForget(client.lastId, now)) {
      this.clients.delete(clientId);
      return;
    }
    clearTimeout(client.forgetTimer);
    client.forgetTimer = setTimeout(
      () => this.forgetClient(clientId, client),
      client.lastId - now + 1,
    );
    client.forgetTimer.unref();
  }
}

function newClientJobs(): ClientJobs {
  return { lastId: 0, jobs: new Map(), finished: new Set(), byIdempotencyKey: new Map() };
}
