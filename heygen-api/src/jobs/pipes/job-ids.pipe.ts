import { Inject, Injectable, type PipeTransform } from '@nestjs/common';
import { AppConfig } from '../../config/app-config.js';
import { DomainError } from '../../errors/domain-error.js';
import { JOB_ID } from './job-id.pipe.js';

/** `?ids=1,2,3` for the batch status: undefined when absent (all jobs), else the ids in order. */
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
    return items.map((item) => {
      if (!JOB_ID.test(item)) {
        throw new DomainError(
          'INVALID_QUERY',
          `ids must be comma-separated positive integers; ${JSON.stringify(item)} is not one`,
        );
      }
      return Number(item);
    });
  }
}
