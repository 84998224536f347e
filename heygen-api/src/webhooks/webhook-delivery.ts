import { type WebhookEventName } from './webhook-events.js';

/** One event of one job on its way to the job's webhook: the unit retried and replayed. */
export interface WebhookDelivery {
  /** Ours, for `POST /status/:id/deliveries/:deliveryId/retry`. */
  deliveryId: string;
  clientId: string;
  jobId: number;
  /** The event's id: sent as `webhook-id`, the same as the stream's `id:` for that change. */
  eventId: string;
  type: `job.${WebhookEventName}`;
  /**
   * The receiving host (`host:port` of the webhook URL), for the queue's per-host budget; absent
   * on deliveries stored before it.
   */
  host?: string;
  /** The JSON body, made once: every attempt sends the same bytes. */
  body: string;
  /** Attempts made so far (automatic and manual). */
  attempts: number;
  /** Automatic attempts made: the position in the retry schedule. */
  scheduled: number;
  /**
   * `superseded`: a `progress` delivery that a later change of its job replaced before it was
   * delivered; neither sent nor retried (the later one carries where the job stands).
   */
  state: 'pending' | 'delivered' | 'failed' | 'superseded';
  /** When the next automatic attempt is due (ms since the epoch), while pending. */
  nextAttemptAt?: number;
}

/** A delivery of a job's final state: nothing the job does comes after it. */
export const isFinalDelivery = ({ type }: Pick<WebhookDelivery, 'type'>): boolean =>
  type !== 'job.progress' && type !== 'job.running';

/** One attempt, as `GET /status/:id/deliveries` lists it. */
export interface DeliveryAttempt {
  deliveryId: string;
  eventId: string;
  type: string;
  /** 1 for the first attempt of the delivery. */
  attempt: number;
  /** When it was made (ISO 8601). */
  at: string;
  /** The receiver's HTTP status, when it answered. */
  statusCode?: number;
  /** Why it did not answer: `timeout`, `connection refused`, `address not allowed`, … */
  error?: string;
  durationMs: number;
  /** When it will be tried again (ISO 8601), when it failed and the schedule is not over. */
  nextAttemptAt?: string;
}
