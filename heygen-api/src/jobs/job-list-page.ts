import { type PipeTransform } from '@nestjs/common';
import { DomainError } from '../errors/domain-error.js';
import { compileSchema } from '../http/validation.js';
import { type ListPage } from '../store/list-page.js';
import { JOB_ID_SCHEMA } from './schemas.js';

// A page of the list of all a client's jobs, `GET /status?limit=<n>&startingAfter=<id>`
// (docs/protocol.md, "GET /status (JSON batch)"): without it the list is every job the server
// keeps for the client, up to MAX_JOBS_PER_CLIENT (about 600 KB at 2,000), in one answer.

const isJobId = compileSchema<string>(JOB_ID_SCHEMA);

/** `?startingAfter=`: a job id (JOB_ID_SCHEMA), undefined when absent. */
export class StartingAfterPipe implements PipeTransform<unknown, number | undefined> {
  transform(value: unknown): number | undefined {
    if (value === undefined) return undefined;
    if (!isJobId(value)) {
      throw new DomainError(
        'INVALID_QUERY',
        `startingAfter must be given once, as a job id (a positive integer of at most 15 digits); ${JSON.stringify(value)} is not one`,
      );
    }
    return Number(value);
  }
}

/**
 * The page a GET /status asks for, or undefined for the whole list or a batch: `limit` or
 * `startingAfter` without `after` (a catch-up's) make it a page, which lists no `ids` and is
 * answered at once, so it takes no `ids`, `revisions` or `wait`.
 */
export function listPageQuery(query: {
  limit: number | undefined;
  startingAfter: number | undefined;
  ids: unknown;
  revisions: unknown;
  wait: unknown;
}): ListPage | undefined {
  const { limit, startingAfter, ids, revisions, wait } = query;
  if (limit === undefined && startingAfter === undefined) return undefined;
  if (ids !== undefined || revisions !== undefined || wait !== undefined) {
    throw new DomainError(
      'INVALID_QUERY',
      'limit and startingAfter page the list of all jobs: they take no ids, revisions or wait',
    );
  }
  return { limit, startingAfter };
}
