import { Inject, Injectable, Optional } from '@nestjs/common';
import { type Logger } from 'pino';
import { JobWatches } from '../deadlines/job-watches.js';
import { isFinished } from '../domain/job.js';
import { type JobEvent } from '../events/job-events.js';
import { JobTransitionLog } from '../logging/job-transition-log.js';
import { ROOT_LOGGER } from '../logging/logging.module.js';
import { AppMetrics } from '../metrics/app-metrics.js';
import { type Evicted } from '../store/job-store.js';
import { JOB_WEBHOOKS, type JobWebhooks } from '../webhooks/job-webhooks.js';

/**
 * What a job was created with that hears of its changes: a webhook, a `cancelWhenUnwatched` watch.
 * `false`: known absent, so a change does not ask (with the redis driver, a round trip to Redis per
 * change); absent: unknown, asked.
 */
export interface OptIns {
  webhook?: boolean;
  watched?: boolean;
}

/**
 * Everything that hears of a job's change once its event exists: the metrics, the transition log,
 * the cancelWhenUnwatched watches and the webhooks. Told by whoever makes the change (JobsService
 * for the memory driver's changes and every cancel, the BullMQ runner for its workers' steps), so
 * that each of them reports a change in one call and no observer is forgotten on one path.
 */
@Injectable()
export class JobChanges {
  private readonly transitions: JobTransitionLog;

  constructor(
    @Inject(AppMetrics) private readonly metrics: AppMetrics = new AppMetrics(),
    @Optional() @Inject(ROOT_LOGGER) logger?: Logger,
    // Optional: unit specs build the services without webhooks or watches.
    @Optional() @Inject(JOB_WEBHOOKS) private readonly webhooks?: JobWebhooks,
    @Optional() @Inject(JobWatches) private readonly watches?: JobWatches,
  ) {
    this.transitions = new JobTransitionLog(logger);
  }

  /**
   * A new job, once its first event exists, and the finished jobs its creation forgot early to make
   * room. The webhooks hear only of deliveries given up with those jobs: a creation is no webhook
   * event.
   */
  created(event: JobEvent, evicted: Evicted): void {
    this.metrics.jobCreated(evicted);
    // The redis driver's store gave them up; the memory driver's webhook state tells its own.
    if (evicted.webhooksGivenUp) this.webhooks?.givenUpWithJobs(evicted.webhooksGivenUp);
    this.transitions.changed(event.clientId, event.job);
  }

  /**
   * A change a store accepted, once its event exists. Settles once the change's webhook delivery
   * is queued (the BullMQ runner waits for it, so that an instance dying now loses none); never
   * rejects.
   */
  changed(event: JobEvent, optIns: OptIns = {}): Promise<void> {
    const { clientId, job } = event;
    this.metrics.jobChanged(job);
    this.transitions.changed(clientId, job);
    // A finished job needs no watching for cancelWhenUnwatched any more.
    if (isFinished(job) && optIns.watched !== false) this.watches?.forget(clientId, job.id);
    return this.announced(event, optIns);
  }

  /**
   * A change told again, by an instance that took its job over: its instance may have died before
   * the webhooks heard of it (an event told twice is delivered once). Never rejects.
   */
  async announced(event: JobEvent, { webhook }: OptIns = {}): Promise<void> {
    if (webhook !== false) await this.webhooks?.changed(event);
  }
}
