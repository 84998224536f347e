import { type PipeTransform } from '@nestjs/common';
import { DomainError } from '../../errors/domain-error.js';
import { compileSchema } from '../../http/validation.js';
import { JOB_ID_SCHEMA } from '../schemas.js';

const isJobId = compileSchema<string>(JOB_ID_SCHEMA);

/** `:id` in a path: a positive integer job id (JOB_ID_SCHEMA). */
export class JobIdPipe implements PipeTransform<unknown, number> {
  transform(value: unknown): number {
    if (!isJobId(value)) {
      throw new DomainError(
        'INVALID_JOB_ID',
        `Job id ${JSON.stringify(value)} is not a positive integer of at most 15 digits`,
      );
    }
    return Number(value);
  }
}
