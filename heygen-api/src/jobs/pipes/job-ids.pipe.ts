import { Inject, Injectable, type PipeTransform } from '@nestjs/common';
import { AppConfig } from '../../config/app-config.js';
import { DomainError } from '../../errors/domain-error.js';
import { compileSchema } from '../../http/validation.js';
import { JOB_ID_LIST_SCHEMA, JOB_ID_SCHEMA } from '../schemas.js';

const isJobIdList = compileSchema<string>(JOB_ID_LIST_SCHEMA);
const isJobId = compileSchema<string>(JOB_ID_SCHEMA);

/**
 * `?ids=1,2,3` for the batch status (JOB_ID_LIST_SCHEMA, and at most MAX_BATCH_IDS of them):
 * undefined when absent (all jobs), else the ids in order.
 */
@Injectable()
export class JobIdsPipe implements PipeTransform<unknown, number[] | undefined> {
  constructor(@Inject(AppConfig) private readonly config: AppConfig) {}

  transform(value: unknown): number[] | undefined {
    if (value === undefined) return undefined;
    if (typeof value !== 'string') {
      throw new DomainError('INVALID_QUERY', 'ids must be given once, as a comma-separated list');
    }
    const items = value.split(',');
    if (items.length > this.config.maxBatchIds) {
      throw new DomainError(
        'INVALID_QUERY',
        `ids may list at most ${this.config.maxBatchIds} jobs`,
      );
    }
    if (!isJobIdList(value)) {
      const bad = items.find((item) => !isJobId(item));
      throw new DomainError(
        'INVALID_QUERY',
        `ids must be comma-separated positive integers; ${JSON.stringify(bad)} is not one`,
      );
    }
    return items.map(Number);
  }
}
