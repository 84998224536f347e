import { type PipeTransform } from '@nestjs/common';
import { DomainError } from '../../errors/domain-error.js';
import { compileSchema, describeProblems } from '../../http/validation.js';
import { type JobRequest } from '../jobs.service.js';
import { CREATE_JOB_BODY_SCHEMA } from '../schemas.js';

const isJobRequest = compileSchema<JobRequest>(CREATE_JOB_BODY_SCHEMA);

/**
 * The optional body of POST /create (docs/protocol.md): no body means the defaults; otherwise it
 * must match CREATE_JOB_BODY_SCHEMA, `null` being a wrong type. The upper bound of `duration` is the
 * service's rule, as it depends on the configuration.
 */
export class CreateJobPipe implements PipeTransform<unknown, JobRequest> {
  transform(value: unknown): JobRequest {
    if (value === undefined) return {};
    if (isJobRequest(value)) return value;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw invalid(['the request body must be a JSON object']);
    }
    throw invalid(describeProblems(isJobRequest.errors ?? []));
  }
}

const invalid = (problems: string[]): DomainError =>
  new DomainError('INVALID_BODY', problems.join('; '));
