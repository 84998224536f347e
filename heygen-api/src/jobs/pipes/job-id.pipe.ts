import { type PipeTransform } from '@nestjs/common';
import { DomainError } from '../../errors/domain-error.js';

/** Job ids are positive integers of at most 15 digits, so they stay exact as JavaScript numbers. */
export const JOB_ID = /^[1-9]\d{0,14}$/;

/** `:id` in a path: a positive integer job id. */
export class JobIdPipe implements PipeTransform<unknown, number> {
  transform(value: unknown): number {
    if (typeof value !== 'string' || !JOB_ID.test(value)) {
      throw new DomainError(
        'INVALID_JOB_ID',
        `Job id ${JSON.stringify(value)} is not a positive integer of at most 15 digits`,
      );
    }
    return Number(value);
  }
}
