import { Inject, Injectable, type PipeTransform } from '@nestjs/common';
import { AppConfig } from '../../config/app-config.js';
import { DomainError } from '../../errors/domain-error.js';
import { compileSchema } from '../../http/validation.js';
import { REVISION_LIST_SCHEMA, REVISION_SCHEMA } from '../schemas.js';

const isRevision = compileSchema<string>(REVISION_SCHEMA);
const isRevisionList = compileSchema<string>(REVISION_LIST_SCHEMA);

/** `?revision=3` of GET /status/:id (REVISION_SCHEMA): undefined when absent. */
export class RevisionPipe implements PipeTransform<unknown, number | undefined> {
  transform(value: unknown): number | undefined {
    if (value === undefined) return undefined;
    if (!isRevision(value)) {
      throw new DomainError(
        'INVALID_QUERY',
        `revision must be given once, as a non-negative integer of at most 15 digits; ${JSON.stringify(value)} is not one`,
      );
    }
    return Number(value);
  }
}

/**
 * `?revisions=3,0,12` of the batch (REVISION_LIST_SCHEMA, at most MAX_BATCH_IDS of them):
 * undefined when absent. That they match `ids` one for one is checked by `revisionsByIds`.
 */
@Injectable()
export class RevisionsPipe implements PipeTransform<unknown, number[] | undefined> {
  constructor(@Inject(AppConfig) private readonly config: AppConfig) {}

  transform(value: unknown): number[] | undefined {
    if (value === undefined) return undefined;
    if (typeof value !== 'string') {
      throw new DomainError(
        'INVALID_QUERY',
        'revisions must be given once, as a comma-separated list',
      );
    }
    const items = value.split(',');
    // Counted before the pattern runs, so a huge list costs no more than a split.
    if (items.length > this.config.maxBatchIds) {
      throw new DomainError(
        'INVALID_QUERY',
        `revisions may list at most ${this.config.maxBatchIds} revisions`,
      );
    }
    if (!isRevisionList(value)) {
      const bad = items.find((item) => !isRevision(item));
      throw new DomainError(
        'INVALID_QUERY',
        `revisions must be comma-separated non-negative integers; ${JSON.stringify(bad)} is not one`,
      );
    }
    return items.map(Number);
  }
}

/**
 * The revision the client has of each id, from `ids` and `revisions` read side by side; for an id
 * listed twice, the first. Undefined without `revisions`; `INVALID_QUERY` when they do not pair.
 */
export function revisionsByIds(
  ids: readonly number[] | undefined,
  revisions: readonly number[] | undefined,
): Map<number, number> | undefined {
  if (revisions === undefined) return undefined;
  if (ids === undefined) {
    throw new DomainError('INVALID_QUERY', 'revisions needs ids: one revision for each id');
  }
  if (revisions.length !== ids.length) {
    throw new DomainError(
      'INVALID_QUERY',
      `revisions must give one revision for each id: ${ids.length} ids, ${revisions.length} revisions`,
    );
  }
  const byId = new Map<number, number>();
  ids.forEach((id, i) => {
    if (!byId.has(id)) byId.set(id, revisions[i]!);
  });
  return byId;
}
