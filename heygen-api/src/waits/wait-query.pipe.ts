import { type PipeTransform } from '@nestjs/common';
import { DomainError } from '../errors/domain-error.js';
import { compileSchema, type JsonSchema } from '../http/validation.js';

/**
 * `?wait=` of the status routes: the held wait in seconds, as `Prefer: wait=<s>` asks it, for a
 * browser that would pay a CORS preflight for the header (docs/protocol.md, "Held waits").
 */
export const WAIT_SCHEMA: JsonSchema = {
  type: 'string',
  pattern: '^(?:0|[1-9][0-9]{0,14})$',
  example: '25',
};

const isWait = compileSchema<string>(WAIT_SCHEMA);

/** `?wait=25` → 25; undefined when absent, or malformed (which WaitQueryPipe refuses). */
export function parseWaitQuery(value: unknown): number | undefined {
  return isWait(value) ? Number(value) : undefined;
}

/**
 * `?wait=25` of the status routes → the seconds of wait it asks for, or undefined when absent.
 * Unlike `Prefer`, whose malformed values RFC 7240 says to ignore, the query is the API's own and
 * is checked like the others: a malformed one is `400 INVALID_QUERY`. When given it wins over
 * `Prefer` (the controllers, and the rate limits' guard, read it first).
 */
export class WaitQueryPipe implements PipeTransform<unknown, number | undefined> {
  transform(value: unknown): number | undefined {
    if (value === undefined) return undefined;
    const seconds = parseWaitQuery(value);
    if (seconds === undefined) {
      throw new DomainError(
        'INVALID_QUERY',
        `wait must be given once, as a non-negative integer of at most 15 digits (seconds); ${JSON.stringify(value)} is not one`,
      );
    }
    return seconds;
  }
}
