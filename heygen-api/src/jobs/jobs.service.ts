import { Inject, Injectable, Logger as NestLogger, Optional } from '@nestjs/common';
import { JobChanges, type OptIns } from '../changes/job-changes.js';
import { AppConfig } from '../config/app-config.js';
import { cancelBecause, UNWATCHED } from '../deadlines/cancel-reasons.js';
import { JobWatches } from '../deadlines/job-watches.js';
import { type ClientKey } from '../domain/client.js';
import { cancel, isFinished, type Job, type JobRecord, type JobTransition } from '../domain/job.js';
import { DomainError, jobNotFound } from '../errors/domain-error.js';
import { JOB_EVENTS, type JobEvent, type JobEvents } from '../events/job-events.js';
import { addressKey } from '../http/address-key.js';
import { JOB_RUNNER, type JobRunner } from '../runner/job-runner.js';
import { JOB_STORE, type JobStore } from '../store/job-store.js';
import { type ListPage } from '../store/list-page.js';
import { JOB_WEBHOOKS, type JobWebhooks } from '../webhooks/job-webhooks.js';

/** How a client asks for a job to be simulated (POST /create body). */
export interface JobRequest {
  duration?: number;
  fail?: boolean;
  /** Where to POST the job's changes (docs/protocol.md, "Webhooks"). */
  webhook?: string;
  /** Which changes; `canceled` is accepted for `cancelled`. */
  webhookEvents?: string[];
  /** Seconds unwatched after which the job is cancelled (docs/protocol.md, "Deadlines"). */
  cancelWhenUnwatched?: number;
}

export interface BatchResult {
  jobs: Job[];
  missing: number[];
  /** A page of the list of all jobs: more jobs follow its last one. */
  more?: boolean;
  /** `Cancel-After` deadlines of the unfinished jobs that have one, by id: for the poll hint. */
  deadlines?: Map<number, number>;
}

/** A record's `Cancel-After` deadline, as an optional `cancelAt`. */
function deadlineOf({ cancelAt }: JobRecord): { cancelAt?: number } {
  return cancelAt === undefined ? {} : { cancelAt };
}

/** `deadlines` of a BatchResult, when any of `records` has one. */
function deadlinesOf(records: JobRecord[]): Pick<BatchResult, 'deadlines'> {
  const deadlines = new Map<number, number>();
  for (const { job, cancelAt } of records) {
    if (cancelAt !== undefined && !isFinished(job)) deadlines.set(job.id, cancelAt);
  }
  return deadlines.size > 0 ? { deadlines } : {};
}

/** The rules of jobs: who may see what, how a job is created, changed and cancelled. */
@Injectable()
export class JobsService {
  private readonly logger = new NestLogger(JobsService.name);
  constructor(
    @Inject(AppConfig) private readonly config: AppConfig,
    @Inject(JOB_STORE) private readonly store: JobStore,
    @Inject(JOB_EVENTS) private readonly events: JobEvents,
    @Inject(JOB_RUNNER) private readonly runner: JobRunner,
    @Inject(JobChanges) private readonly changes: JobChanges = new JobChanges(),
    // Optional: unit tests build the service by hand, without webhooks or watches.
    @Optional() @Inject(JOB_WEBHOOKS) private readonly webhooks?: JobWebhooks,
    @Optional() @Inject(JobWatches) private readonly watches?: JobWatches,
  ) {
    this.watches?.onUnwatched((clientId, id) => void this.cancelUnwatched(clientId, id));
  }

  /** Creates a job, or returns the one this idempotency key already created (`created: false`). */
  async create(
    clientId: ClientKey,
    request: JobRequest,
    idempotencyKey?: string,
    /** `Cancel-After`, ms: counted from the job's creation. */
    cancelAfterMs?: number,
    /** The request's address: counted against MAX_ACTIVE_JOBS_PER_ADDRESS when it is on. */
    ip?: string,
  ): Promise<{ job: Job; created: boolean; cancelAt?: number }> {
    const duration = request.duration ?? this.config.jobTimeMs;
    if (duration > this.config.maxJobTimeMs) {
      throw new DomainError(
        'INVALID_BODY',
        `duration must not be greater than ${this.config.maxJobTimeMs} ms`,
      );
    }
    const fail = request.fail ?? false;
    const { cancelWhenUnwatched } = request;
    const asksWebhook = request.webhook !== undefined || request.webhookEvents !== undefined;
    const webhook = asksWebhook ? await this.webhooks?.check(request) : undefined;
    // What the runner tells of each change (a retry with this key has the same: its fingerprint
    // says so).
    const optIns: OptIns = {
      webhook: webhook !== undefined,
      watched: cancelWhenUnwatched !== undefined,
    };
    // A webhook is part of the request: the same key with another webhook is another request.
    // So are the deadlines, added only when asked so that older fingerprints stay as they were.
    // Only a creation with a key needs one.
    const idempotency =
      idempotencyKey === undefined
        ? undefined
        : {
            key: idempotencyKey,
            fingerprint: JSON.stringify({
              ...(webhook
                ? { duration, fail, webhook: webhook.url, events: [...webhook.events] }
                : { duration, fail }),
              ...(cancelAfterMs !== undefined && { cancelAfter: cancelAfterMs }),
              ...(cancelWhenUnwatched !== undefined && { cancelWhenUnwatched }),
            }),
          };

    const address =
      ip !== undefined && this.config.maxActiveJobsPerAddress > 0 ? addressKey(ip) : undefined;
    const now = Date.now();
    const result = await this.store.create({
      clientId,
      duration,
      fail,
      now,
      ...(cancelAfterMs !== undefined && { cancelAt: now + cancelAfterMs }),
      ...(address !== undefined && { address }),
      limits: {
        activePerClient: this.config.maxActiveJobsPerClient,
        keptPerClient: this.config.maxJobsPerClient,
        active: this.config.maxActiveJobs,
        activePerAddress: this.config.maxActiveJobsPerAddress,
      },
      ...(idempotency && { idempotency }),
    });
    if (result.outcome === 'limit' && result.limit === 'server') {
      throw new DomainError(
        'SERVER_JOBS_FULL',
        'The server is running as many jobs as it can; try again later',
        1,
      );
    }
    if (result.outcome === 'limit') {
      throw new DomainError(
        'TOO_MANY_JOBS',
        result.limit === 'address'
          ? `The clients of one address may have at most ${this.config.maxActiveJobsPerAddress} unfinished jobs together`
          : `A client may have at most ${this.config.maxActiveJobsPerClient} unfinished jobs`,
        1,
      );
    }
    const { record } = result;
    if (result.outcome === 'existing') {
      if (record.idempotency?.fingerprint !== idempotency?.fingerprint) {
        throw new DomainError(
          'IDEMPOTENCY_KEY_REUSED',
          'This Idempotency-Key was already used with a different request body',
        );
      }
      // A creation whose answer was lost may also have lost its hand-over to the runner (Redis
      // gone between the two): the retry hands an unfinished job over again. Running is
      // idempotent, so a job already being worked on is left as it is.
      // So may its watch for cancelWhenUnwatched (redis): added again, an added one is kept as is.
      // And its webhook, which must also be there before the job's first change: the creation
      // that won a race for this key may not have subscribed it yet when this one runs the job.
      if (!isFinished(record.job)) {
        if (webhook) await this.webhooks?.subscribe(clientId, record.job.id, webhook);
        await this.watchFor(record, cancelWhenUnwatched);
        this.run(record, optIns);
      }
      return { job: record.job, created: false, ...deadlineOf(record) };
    }
    // Registered before the runner can change the job: its first change must find the webhook.
    if (webhook) await this.webhooks?.subscribe(clientId, record.job.id, webhook);
    const event = await this.logged(clientId, record.job, result.event);
    this.changes.created(event, result.evicted);
    await this.watchFor(record, cancelWhenUnwatched);
    this.run(record, optIns);
    return { job: event.job, created: true, ...deadlineOf(record) };
  }

  /** Has the job cancelled once unwatched for `cancelWhenUnwatched` seconds, when it asked. */
  private async watchFor(
    record: JobRecord,
    cancelWhenUnwatched: number | undefined,
  ): Promise<void> {
    if (cancelWhenUnwatched === undefined) return;
    await this.watches?.add(
      record.clientId,
      record.job.id,
      Math.round(cancelWhenUnwatched * 1000),
      Date.parse(record.job.createdAt),
    );
  }

  /**
   * Hands the job to the runner, with its deadline when `Cancel-After` set one (the store keeps
   * it with the record), and what it opted into.
   */
  private run(record: JobRecord, optIns: OptIns): void {
    this.runner.run(
      record,
      (transition) => this.apply(record.clientId, record.job.id, transition),
      { ...deadlineOf(record), ...optIns },
    );
  }

  async get(clientId: ClientKey, id: number): Promise<Job> {
    return (await this.owned(clientId, id)).job;
  }

  /** One job as a batch of one (what a held wait reads), with its deadline; 404 when not owned. */
  async getOne(clientId: ClientKey, id: number): Promise<BatchResult> {
    const record = await this.owned(clientId, id);
    return { jobs: [record.job], missing: [], ...deadlinesOf([record]) };
  }

  /** The client's jobs among `ids` (all of them when `ids` is undefined), and the ids it does not own. */
  async getMany(clientId: ClientKey, ids?: number[]): Promise<BatchResult> {
    if (ids === undefined) {
      const records = await this.store.listByClient(clientId);
      return { jobs: records.map((record) => record.job), missing: [], ...deadlinesOf(records) };
    }
    const records: JobRecord[] = [];
    const missing: number[] = [];
    for (const id of new Set(ids)) {
      const record = await this.store.get(clientId, id);
      if (record) records.push(record);
      else missing.push(id);
    }
    return { jobs: records.map((record) => record.job), missing, ...deadlinesOf(records) };
  }

  /** A page of the client's jobs, oldest first (`GET /status?limit=&startingAfter=`). */
  async listPage(clientId: ClientKey, which: ListPage): Promise<BatchResult> {
    const { records, more } = await this.store.listPage(clientId, which);
    return {
      jobs: records.map((record) => record.job),
      missing: [],
      more,
      ...deadlinesOf(records),
    };
  }

  /** Every job of the client the server still keeps, oldest first. */
  async list(clientId: ClientKey): Promise<Job[]> {
    return (await this.store.listByClient(clientId)).map((record) => record.job);
  }

  async cancel(clientId: ClientKey, id: number): Promise<Job> {
    await this.owned(clientId, id);
    const cancelled = await this.apply(clientId, id, cancel);
    if (!cancelled) throw new DomainError('JOB_FINISHED', `Job ${id} has already finished`);
    this.runner.stop(clientId, id);
    return cancelled;
  }

  /** Cancels a job nobody watched for its `cancelWhenUnwatched` time (JobWatches' sweep). */
  private async cancelUnwatched(clientId: ClientKey, id: number): Promise<void> {
    try {
      const cancelled = await this.apply(clientId, id, cancelBecause(UNWATCHED));
      if (cancelled) this.runner.stop(clientId, id);
      // Finished meanwhile, or gone: nothing is left to watch (redis: else the claim comes back).
      else this.watches?.forget(clientId, id);
    } catch (error) {
      this.logger.error(`Job ${id}: could not be cancelled as unwatched`, error);
    }
  }

  /** Changes a job in the store, then tells its client's streams (unless the store did, Logged). */
  private async apply(
    clientId: ClientKey,
    id: number,
    transition: JobTransition,
  ): Promise<Job | undefined> {
    const record = await this.store.update(clientId, id, (job) => transition(job, Date.now()));
    if (!record) return undefined;
    const event = await this.logged(clientId, record.job, record.event);
    // Here for the memory driver's every change and any driver's cancel; the BullMQ runner tells
    // of the changes it makes. Not waited for: the answer never waits for a webhook's queueing.
    void this.changes.changed(event);
    return event.job;
  }

  /**
   * A change's event: the one the store logged with it (redis, Logged), else published now and its
   * id recorded with the job (memory), so that every later read carries the job's `eventId`.
   */
  private async logged(
    clientId: ClientKey,
    job: Job,
    event: JobEvent | undefined,
  ): Promise<JobEvent> {
    if (event) return event;
    const published = await this.events.publish(clientId, job);
    await this.store.recordEvent?.(published);
    return published;
  }

  /**
   * Jobs are looked up within their client: someone else's job, an expired or an evicted one all
   * answer alike, so ids cannot be probed.
   */
  private async owned(clientId: ClientKey, id: number): Promise<JobRecord> {
    const record = await this.store.get(clientId, id);
    if (!record) throw jobNotFound(id);
    return record;
  }
}
