import { type JsonSchema } from '../http/validation.js';
import { MAX_WEBHOOK_URL_LENGTH } from '../webhooks/webhook-target.js';

// The request schemas of the job endpoints: the pipes check them (compiled once, by Ajv) and the
// OpenAPI document shows them, so the document cannot drift from the checks (issue 10).

const ID = '[1-9][0-9]{0,14}';

/** `:id` in a path: a positive integer of at most 15 digits, so it stays exact as a JS number. */
export const JOB_ID_SCHEMA: JsonSchema = {
  type: 'string',
  pattern: `^${ID}$`,
  example: '17',
};

/** `?ids=` of the batch: comma-separated job ids (at most MAX_BATCH_IDS, checked by the pipe). */
export const JOB_ID_LIST_SCHEMA: JsonSchema = {
  type: 'string',
  pattern: `^${ID}(?:,${ID})*$`,
  example: '17,18,21',
};

const REVISION = '(?:0|[1-9][0-9]{0,14})';

/**
 * `?revision=` of GET /status/:id: the revision of the job the client has already, `0` for none
 * (docs/protocol.md, "Held waits"). A held request answers once the job is past it.
 */
export const REVISION_SCHEMA: JsonSchema = {
  type: 'string',
  pattern: `^${REVISION}$`,
  example: '3',
};

/** `?revisions=` of the batch: one revision per id of `ids`, in the same order. */
export const REVISION_LIST_SCHEMA: JsonSchema = {
  type: 'string',
  pattern: `^${REVISION}(?:,${REVISION})*$`,
  example: '3,0,12',
};

/** The longest `cancelWhenUnwatched` accepted, seconds: a day, like `Cancel-After`. */
const MAX_UNWATCHED_S = 86_400;

/** What `webhookEvents` may name: the API's statuses, `progress`, and the alias `canceled`. */
const WEBHOOK_EVENT_ENUM = ['running', 'progress', 'completed', 'failed', 'cancelled', 'canceled'];

/**
 * The optional body of POST /create (a `JobRequest`): an integer `duration` ≥ 0, a boolean `fail`,
 * a webhook with the events it wants (the URL itself is checked by the webhooks module), and
 * `cancelWhenUnwatched` in seconds.
 */
export const CREATE_JOB_BODY_SCHEMA: JsonSchema = {
  type: 'object',
  properties: {
    duration: {
      type: 'integer',
      minimum: 0,
      description: 'Run time in ms instead of JOB_TIME; at most MAX_JOB_TIME_MS',
      example: 3000,
    },
    fail: {
      type: 'boolean',
      description: 'End the job as failed instead of completed',
      example: false,
    },
    webhook: {
      type: 'string',
      minLength: 1,
      maxLength: MAX_WEBHOOK_URL_LENGTH,
      description:
        'An absolute http(s) URL that receives the job\'s changes, signed (docs/protocol.md, "Webhooks")',
      example: 'https://example.com/hooks/heygen',
    },
    webhookEvents: {
      type: 'array',
      items: { type: 'string', enum: WEBHOOK_EVENT_ENUM },
      minItems: 1,
      maxItems: WEBHOOK_EVENT_ENUM.length,
      description:
        'The changes to send (default: completed, failed, cancelled); canceled is cancelled',
      example: ['running', 'completed', 'failed', 'cancelled'],
    },
    cancelWhenUnwatched: {
      type: 'number',
      // 1 ms, rather than exclusiveMinimum: 0, which OpenAPI 3.0 and JSON Schema spell differently.
      minimum: 0.001,
      maximum: MAX_UNWATCHED_S,
      description:
        'Seconds (fractions allowed, at most a day): cancel the job, with error UNWATCHED, once no stream, status read or held wait has watched it for that long (docs/protocol.md, "Deadlines"); with JOBS_DRIVER=redis up to about 1.5 s later',
      example: 60,
    },
  },
  additionalProperties: false,
};

/**
 * `Cancel-After` on POST /create, as documented: the pipe parses it (deadlines/duration.ts), since a
 * pattern cannot check "greater than zero, at most a day".
 */
export const CANCEL_AFTER_SCHEMA: JsonSchema = {
  type: 'string',
  pattern: '^(?:\\d+(?:\\.\\d+)?|(?:\\d+(?:\\.\\d+)?(?:h|m|s|ms))+)$',
  example: '5m',
};

/** `Idempotency-Key`: 1–255 printable ASCII characters, no space at either end. */
export const IDEMPOTENCY_KEY_SCHEMA: JsonSchema = {
  type: 'string',
  pattern: '^[\\x21-\\x7e](?:[\\x20-\\x7e]{0,253}[\\x21-\\x7e])?$',
  example: 'order-7f3a',
};
