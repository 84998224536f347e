import { type ClientKey } from '../domain/client.js';
import { type JobEvent } from '../events/job-events.js';
import { type WebhookFields, type WebhookTarget } from './webhook-target.js';

/** Injection token of what JobsService tells about webhooks: optional, so unit specs may leave it out. */
export const JOB_WEBHOOKS = Symbol('JobWebhooks');

/** The webhooks as the job rules see them: a check at create, a registration, and every change. */
export interface JobWebhooks {
  /** Checks a create body's webhook fields (DomainError when bad); undefined when there is none. */
  check(fields: WebhookFields): Promise<WebhookTarget | undefined>;
  /** Registers a new job's webhook, before its first change. */
  subscribe(clientId: ClientKey, jobId: number, target: WebhookTarget): Promise<void>;
  /**
   * Told every change of every job once its event exists; settles once its delivery is queued.
   * Never rejects; an event told twice is delivered once.
   */
  changed(event: JobEvent): Promise<void>;
  /**
   * The store gave up `count` pending deliveries with the jobs a creation forgot at
   * MAX_RETAINED_JOBS (the redis driver's store deletes their webhooks in its script).
   */
  givenUpWithJobs(count: number): void;
}
