import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import { isFinished, newJob, type Job, type JobRecord } from '../domain/job.js';
import { type CreateResult, type JobDraft, type JobStore } from './job-store.js';

interface ClientJobs {
  ids: Set<number>;
  active: number;
  byIdempotencyKey: Map<string, number>;
}

/**
 * A job store in this process's memory, indexed by client. Finished jobs are forgotten
 * `retentionMs` after they finish, so memory stays bounded.
 */
@Injectable()
export class InMemoryJobStore implements JobStore, OnModuleDestroy {
  private lastId = 0;
  private readonly records = new Map<number, JobRecord>();
  private readonly clients = new Map<string, ClientJobs>();
  private readonly expiries = new Map<number, NodeJS.Timeout>();

  constructor(@Inject(AppConfig) private readonly config: AppConfig) {}

  create(draft: JobDraft): Promise<CreateResult> {
    const client = this.clientJobs(draft.clientId);
    if (draft.idempotency) {
      const existing = client.byIdempotencyKey.get(draft.idempotency.key);
      const record = existing === undefined ? undefined : this.records.get(existing);
      if (record) return Promise.resolve({ outcome: 'existing', record });
    }
    if (client.active >= draft.maxActive) return Promise.resolve({ outcome: 'limit' });
    const record: JobRecord = {
      job: newJob(++this.lastId, draft.duration, draft.now),
      clientId: draft.clientId,
      fail: draft.fail,
      ...(draft.idempotency && { idempotency: draft.idempotency }),
    };
    this.records.set(record.job.id, record);
    client.ids.add(record.job.id);
    client.active += 1;
    if (draft.idempotency) client.byIdempotencyKey.set(draft.idempotency.key, record.job.id);
    return Promise.resolve({ outcome: 'created', record });
  }

  get(id: number): Promise<JobRecord | undefined> {
    return Promise.resolve(this.records.get(id));
  }

  listByClient(clientId: string): Promise<JobRecord[]> {
    const ids = this.clients.get(clientId)?.ids ?? [];
    return Promise.resolve([...ids].flatMap((id) => this.records.get(id) ?? []));
  }

  update(id: number, change: (job: Job) => Job | undefined): Promise<JobRecord | undefined> {
    const record = this.records.get(id);
    const next = record && change(record.job);
    if (!record || !next) return Promise.resolve(undefined);
    const wasFinished = isFinished(record.job);
    // Records are replaced, never mutated: a reader holding the previous one keeps a consistent copy.
    const updated: JobRecord = { ...record, job: next };
    this.records.set(id, updated);
    if (!wasFinished && isFinished(next)) this.onFinished(updated);
    return Promise.resolve(updated);
  }

  onModuleDestroy(): void {
    for (const timer of this.expiries.values()) clearTimeout(timer);
    this.expiries.clear();
  }

  private onFinished(record: JobRecord): void {
    const client = this.clientJobs(record.clientId);
    client.active -= 1;
    const timer = setTimeout(() => this.forget(record), this.config.retentionMs);
    timer.unref();
    this.expiries.set(record.job.id, timer);
  }

  private forget({ job, clientId, idempotency }: JobRecord): void {
    this.expiries.delete(job.id);
    this.records.delete(job.id);
    const client = this.clients.get(clientId);
    if (!client) return;
    client.ids.delete(job.id);
    if (idempotency) client.byIdempotencyKey.delete(idempotency.key);
    if (client.ids.size === 0) this.clients.delete(clientId);
  }

  private clientJobs(clientId: string): ClientJobs {
    let client = this.clients.get(clientId);
    if (!client) {
      client = { ids: new Set(), active: 0, byIdempotencyKey: new Map() };
      this.clients.set(clientId, client);
    }
    return client;
  }
}
