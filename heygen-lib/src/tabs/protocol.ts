import { asJob, asJobs, isId } from '../answers.js';
import { HeyGenError, type HeyGenErrorCode } from '../errors/heygen-error.js';
import { HttpError } from '../errors/http-error.js';
import { MessageParseError } from '../errors/message-parse-error.js';
import { SSEError } from '../errors/sse-error.js';
import type { Job } from '../job.js';
import type { TransportState } from '../transports/transport.js';
import { HeyGenStatusListenerMode } from '../types.js';

/**
 * The version of the tab channel's messages. It is part of the lock and channel names too
 * (platform.ts), so tabs of another major version form their own group instead of fighting
 * over one lock; a message of another version that still reaches us is ignored and logged.
 */
export const PROTOCOL_VERSION = 1;

/** A HeyGenError as it crosses the channel (structured clone keeps no class). */
export interface WireError {
  code: string;
  message: string;
  /** HTTP status of an HttpError or a refused stream. */
  status?: number;
}

/** A transport state as it crosses the channel. */
export type WireState =
  | { state: 'connecting'; transport: 'sse' | 'poll'; attempt: number; error?: WireError }
  | { state: 'open'; transport: 'sse' | 'poll' }
  | { state: 'closed'; error?: WireError };

/**
 * What tabs of one group say to each other (docs/design.md, "Sharing across tabs"). Only the
 * leader sends `leader`, `state`, `job`, `snapshot`, `missing` and `error`; followers send
 * `watch` and `ping`; anyone sends `mode` and `leave`. Every message names its sender (`from`,
 * random per instance) and carries `v`.
 */
export type TabBody =
  | {
      /** I hold the lock now: tell me what you watch. */
      type: 'leader';
      mode: HeyGenStatusListenerMode;
    }
  | {
      /** The leader is alive (the answer to `watch` and `ping`), with its transport's state. */
      type: 'state';
      mode: HeyGenStatusListenerMode;
      state?: WireState;
    }
  | {
      /** A job update, with the stream's last event id once it has one. */
      type: 'job';
      job: Job;
      lastEventId?: string;
    }
  | {
      /** The stream's snapshot: every job the server keeps (already sent one by one as `job`). */
      type: 'snapshot';
      jobs: Job[];
      lastEventId?: string;
    }
  | {
      /** The server does not know these ids. */
      type: 'missing';
      ids: number[];
    }
  | {
      /** A soft error (a message that did not parse) about these ids. */
      type: 'error';
      ids: number[];
      error: WireError;
    }
  | {
      /** Follower → leader: every unfinished id I watch now (`[]`: none). */
      type: 'watch';
      ids: number[];
      /**
       * Of those, the ones the server cancels once unwatched (`cancelWhenUnwatched`), each with
       * how soon a poll must read it (ms): the leader polls for the follower.
       */
      within?: Array<[id: number, ms: number]>;
      /** Of those, the ones the follower knows when to poll first, each in ms from now. */
      due?: Array<[id: number, inMs: number]>;
    }
  | {
      /** Follower → leader: I have not heard from you for a while. */
      type: 'ping';
    }
  | {
      /** changeBackend() in some tab: the shared transport's mode. */
      type: 'mode';
      mode: HeyGenStatusListenerMode;
    }
  | {
      /** The sender disposes; a leader hands over the last event id it had. */
      type: 'leave';
      lastEventId?: string;
    };

/** A message on the channel: what it says and who says it. */
export type TabMessage = { from: string } & TabBody;

/** The longest id list a message may carry: the server's batch limit is far below it. */
const MAX_IDS = 10_000;
/** Event ids are opaque, but short: one longer than this is not the server's. */
const MAX_EVENT_ID = 256;
const MAX_TEXT = 1000;

const fail = (reason: string): never => {
  throw new Error(reason);
};
const isString = (value: unknown, max: number): value is string =>
  typeof value === 'string' && value.length <= max;

const ids = (value: unknown): number[] =>
  Array.isArray(value) && value.length <= MAX_IDS && value.every(isId)
    ? value
    : fail('ids are not a list of job ids');

// Only the smallest of these counts (a poll never waits past it), so large ones do no harm.
const isPeriod = (value: unknown): boolean => typeof value === 'number' && value > 0;

const isDelay = (value: unknown): boolean => typeof value === 'number' && value >= 0;

/** A list of `[job id, ms]` whose ms pass `isMs`. */
const idPairs = (value: unknown, isMs: (ms: unknown) => boolean): Array<[number, number]> =>
  Array.isArray(value) &&
  value.length <= MAX_IDS &&
  value.every((pair) => Array.isArray(pair) && isId(pair[0]) && isMs(pair[1]))
    ? value.map(([id, ms]: [number, number]) => [id, ms])
    : fail('not a list of [job id, ms]');

const mode = (value: unknown): HeyGenStatusListenerMode =>
  Object.values(HeyGenStatusListenerMode).includes(value as HeyGenStatusListenerMode)
    ? (value as HeyGenStatusListenerMode)
    : fail('unknown mode');

const eventId = (value: unknown): { lastEventId?: string } => {
  if (value === undefined) return {};
  return isString(value, MAX_EVENT_ID) ? { lastEventId: value } : fail('bad lastEventId');
};

const wireError = (value: unknown): WireError => {
  const { code, message, status } = (value ?? {}) as Partial<Record<keyof WireError, unknown>>;
  if (!isString(code, 64) || typeof message !== 'string') return fail('bad error');
  if (status !== undefined && !Number.isSafeInteger(status)) return fail('bad error status');
  return {
    code,
    message: message.slice(0, MAX_TEXT),
    ...(status !== undefined && { status: status as number }),
  };
};

const transportKind = (value: unknown): 'sse' | 'poll' =>
  value === 'sse' || value === 'poll' ? value : fail('bad transport');

const wireState = (value: unknown): WireState => {
  const { state, transport, attempt, error } = (value ?? {}) as Record<string, unknown>;
  const withError = error === undefined ? {} : { error: wireError(error) };
  switch (state) {
    case 'connecting':
      if (!Number.isSafeInteger(attempt) || (attempt as number) < 0) fail('bad attempt');
      return {
        state,
        transport: transportKind(transport),
        attempt: attempt as number,
        ...withError,
      };
    case 'open':
      return { state, transport: transportKind(transport) };
    case 'closed':
      return { state, ...withError };
    default:
      return fail('bad state');
  }
};

/**
 * A message from another tab, checked like a server's answer: anything of another version or of
 * the wrong shape throws an Error saying why (the caller logs it and goes on).
 */
export const parseMessage = (data: unknown): TabMessage => {
  const message = (data ?? {}) as Record<string, unknown>;
  if (typeof data !== 'object' || data === null) fail('not an object');
  if (message.v !== PROTOCOL_VERSION) fail(`version ${String(message.v)}, not ${PROTOCOL_VERSION}`);
  const { type } = message;
  const from = isString(message.from, 64) && message.from ? message.from : fail('no sender');
  const asData = <T>(read: () => T): T => {
    try {
      return read();
    } catch (error) {
      return fail(error instanceof Error ? error.message : 'bad job');
    }
  };
  switch (type) {
    case 'leader':
    case 'mode':
      return { from, type, mode: mode(message.mode) };
    case 'state':
      return {
        from,
        type,
        mode: mode(message.mode),
        ...(message.state !== undefined && { state: wireState(message.state) }),
      };
    case 'job':
      return {
        from,
        type,
        job: asData(() => asJob(message.job)),
        ...eventId(message.lastEventId),
      };
    case 'snapshot':
      return {
        from,
        type,
        jobs: asData(() => asJobs({ jobs: message.jobs })),
        ...eventId(message.lastEventId),
      };
    case 'missing':
      return { from, type, ids: ids(message.ids) };
    case 'watch':
      return {
        from,
        type,
        ids: ids(message.ids),
        ...(message.due !== undefined && { due: idPairs(message.due, isDelay) }),
        ...(message.within !== undefined && { within: idPairs(message.within, isPeriod) }),
      };
    case 'error':
      return { from, type, ids: ids(message.ids), error: wireError(message.error) };
    case 'ping':
      return { from, type };
    case 'leave':
      return { from, type, ...eventId(message.lastEventId) };
    default:
      return fail(`unknown type ${String(type).slice(0, 40)}`);
  }
};

/** A message as it goes on the channel. */
export const encode = (from: string, body: TabBody): TabMessage & { v: number } => ({
  v: PROTOCOL_VERSION,
  from,
  ...body,
});

export const toWireError = (error: HeyGenError): WireError => {
  const { status } = error as { status?: unknown };
  const line = error instanceof MessageParseError ? error.line : error.message;
  return {
    code: error.code,
    message: line,
    ...(typeof status === 'number' && { status }),
  };
};

const CODES: readonly string[] = [
  'SSE_ERROR',
  'JOB_NOT_FOUND',
  'MESSAGE_PARSE',
  'LISTENER_NOT_FOUND',
  'JOB_FAILED',
  'TIMEOUT',
  'ABORTED',
  'HTTP_ERROR',
  'NETWORK_ERROR',
] satisfies HeyGenErrorCode[];

/** The error a tab tells another, as the class a listener in this tab would have seen. */
export const fromWireError = ({ code, message, status }: WireError): HeyGenError => {
  switch (code) {
    case 'SSE_ERROR':
      return new SSEError(message, status);
    case 'HTTP_ERROR':
    case 'NETWORK_ERROR':
      return new HttpError(status ?? 0, message);
    case 'MESSAGE_PARSE':
      return new MessageParseError(message);
    default:
      return CODES.includes(code)
        ? new HeyGenError(code as HeyGenErrorCode, message)
        : new SSEError(message);
  }
};

export const toWireState = (state: TransportState): WireState => {
  switch (state.state) {
    case 'connecting':
      return {
        state: 'connecting',
        transport: state.transport,
        attempt: state.attempt,
        ...(state.error && { error: toWireError(state.error) }),
      };
    case 'open':
      return { state: 'open', transport: state.transport };
    case 'closed':
      return { state: 'closed', ...(state.error && { error: toWireError(state.error) }) };
  }
};

export const fromWireState = (state: WireState): TransportState => {
  switch (state.state) {
    case 'connecting':
      return {
        state: 'connecting',
        transport: state.transport,
        attempt: state.attempt,
        ...(state.error && { error: fromWireError(state.error) }),
      };
    case 'open':
      return state;
    case 'closed':
      return { state: 'closed', ...(state.error && { error: fromWireError(state.error) }) };
  }
};
