import { type PipeTransform } from '@nestjs/common';
import { type AppConfig } from '../config/app-config.js';
import { type Job } from '../domain/job.js';
import { DomainError } from '../errors/domain-error.js';
import { rawResponse } from '../http/raw.js';
import { compileSchema, type JsonSchema } from '../http/validation.js';

// HTTP catch-up, `GET /status?after=<eventId>` (issue 19; docs/protocol.md, "Catching up over
// HTTP"): the client's events since a cursor, as JSON, for a client that has no stream open.

/** The most events one answer carries, and the default of `?limit=`. */
export const MAX_CATCH_UP_EVENTS = 1000;

/**
 * Advertises how many of a client's latest events the server keeps for resume and catch-up
 * (REPLAY_LOG_SIZE), on every status and stream answer: an `eventId` older than that many events
 * may get `410 RESYNC_REQUIRED`.
 */
export const REPLAY_WINDOW_HEADER = 'X-Replay-Window';

/**
 * Sets REPLAY_WINDOW_HEADER on Node's response, so that it goes out with whatever answers the
 * request under either adapter: the JSON, a stream, or an error (written to Node's response).
 */
export function advertiseReplayWindow(res: object, config: AppConfig): void {
  rawResponse(res).setHeader(REPLAY_WINDOW_HEADER, String(config.replayLogSize));
}

/** The OpenAPI description of REPLAY_WINDOW_HEADER. */
export const REPLAY_WINDOW_HEADERS = {
  [REPLAY_WINDOW_HEADER]: {
    required: true,
    description:
      "How many of the client's latest events the server keeps (REPLAY_LOG_SIZE): an `eventId` older than that may answer `410 RESYNC_REQUIRED` to `?after=` and a snapshot to `Last-Event-ID`",
    schema: { type: 'integer', minimum: 1, example: 10000 },
  },
};

/** `?after=`: an event id as the server hands them out (digits, both drivers). */
export const EVENT_ID_SCHEMA: JsonSchema = {
  type: 'string',
  pattern: '^[0-9]{1,16}$',
  example: '1764504000123',
};

/** `?limit=` of a catch-up: 1 to MAX_CATCH_UP_EVENTS. */
export const CATCH_UP_LIMIT_SCHEMA: JsonSchema = {
  type: 'string',
  pattern: '^[1-9][0-9]{0,3}$',
  example: '100',
};

/** One page of a catch-up. */
export interface CatchUp {
  /** The client's events after the cursor, oldest first; each job's `eventId` is its event's `id`. */
  events: { id: string; job: Job }[];
  /** More events follow the last one: ask again with `after` set to its id. */
  more: boolean;
}

const isEventId = compileSchema<string>(EVENT_ID_SCHEMA);
const isLimit = compileSchema<string>(CATCH_UP_LIMIT_SCHEMA);

/** `?after=` (EVENT_ID_SCHEMA): undefined when absent. */
export class EventIdPipe implements PipeTransform<unknown, string | undefined> {
  transform(value: unknown): string | undefined {
    if (value === undefined) return undefined;
    if (!isEventId(value)) {
      throw new DomainError(
        'INVALID_QUERY',
        `after must be given once, as an event id (1 to 16 digits); ${JSON.stringify(value)} is not one`,
      );
    }
    return value;
  }
}

/**
 * `?limit=` of a catch-up (undefined when absent: MAX_CATCH_UP_EVENTS), or of a page of the list of
 * all jobs (undefined: the rest of the list).
 */
export class CatchUpLimitPipe implements PipeTransform<unknown, number | undefined> {
  transform(value: unknown): number | undefined {
    if (value === undefined) return undefined;
    if (!isLimit(value) || Number(value) > MAX_CATCH_UP_EVENTS) {
      throw new DomainError(
        'INVALID_QUERY',
        `limit must be given once, as an integer from 1 to ${MAX_CATCH_UP_EVENTS}; ${JSON.stringify(value)} is not one`,
      );
    }
    return Number(value);
  }
}

/**
 * The catch-up a GET /status asks for, or undefined for the batch: `after` makes it a catch-up
 * (`limit` then bounds its events), which answers at once and lists no `ids`, so it takes no
 * `ids`, `revisions`, `wait` or `startingAfter`. `limit` without `after` pages the list of all
 * jobs instead (jobs/job-list-page.ts).
 */
export function catchUpQuery(query: {
  after: string | undefined;
  limit: number | undefined;
  ids: unknown;
  revisions: unknown;
  wait?: unknown;
  startingAfter?: unknown;
}): { after: string; limit: number } | undefined {
  const { after, limit, ids, revisions, wait, startingAfter } = query;
  if (after === undefined) return undefined;
  if (
    ids !== undefined ||
    revisions !== undefined ||
    wait !== undefined ||
    startingAfter !== undefined
  ) {
    throw new DomainError('INVALID_QUERY', 'after takes no ids, revisions, wait or startingAfter');
  }
  return { after, limit: limit ?? MAX_CATCH_UP_EVENTS };
}

/** The page of `events` (all after the cursor, oldest first) that one answer carries. */
export function catchUpPage(events: readonly { id: string; job: Job }[], limit: number): CatchUp {
  return {
    events: events.slice(0, limit).map(({ id, job }) => ({ id, job })),
    more: events.length > limit,
  };
}
