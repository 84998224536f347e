import { type Job } from '../domain/job.js';

/** The changes a webhook may ask for, in the API's status spelling (issue 19). */
export type WebhookEventName = 'running' | 'progress' | 'completed' | 'failed' | 'cancelled';

export const WEBHOOK_EVENT_NAMES: readonly WebhookEventName[] = [
  'running',
  'progress',
  'completed',
  'failed',
  'cancelled',
];

/** The issue and Replicate spell it `canceled`: accepted on create, always answered `cancelled`. */
export const WEBHOOK_EVENT_ALIASES: Readonly<Record<string, WebhookEventName>> = {
  canceled: 'cancelled',
};

/** No `webhookEvents`: the final changes only, what a backend waiting for a render needs. */
export const DEFAULT_WEBHOOK_EVENTS: readonly WebhookEventName[] = [
  'completed',
  'failed',
  'cancelled',
];

/** The event names of a create body, aliases resolved, duplicates dropped. */
export const normaliseEvents = (names: readonly string[]): WebhookEventName[] => [
  ...new Set(names.map((name) => WEBHOOK_EVENT_ALIASES[name] ?? (name as WebhookEventName))),
];

/**
 * Which webhook event a job's new state is: its start is `running` (the only change that sets
 * `startedAt`), any later change while it runs is `progress`; `pending` (its creation) is none.
 */
export function webhookEventOf(job: Job): WebhookEventName | undefined {
  switch (job.status) {
    case 'pending':
      return undefined;
    case 'running':
      return job.updatedAt === job.startedAt && job.progress === 0 ? 'running' : 'progress';
    case 'completed':
    case 'failed':
    case 'cancelled':
      return job.status;
  }
}
