import { ApiPropertyOptional } from '@nestjs/swagger';
import { type JobRequest } from '../jobs.service.js';

/**
 * Optional body of POST /create: steers the simulation of this one job. Documents the body for
 * OpenAPI; CreateJobPipe checks it.
 */
export class CreateJobDto implements JobRequest {
  @ApiPropertyOptional({
    description: 'Run time in ms instead of JOB_TIME; at most MAX_JOB_TIME_MS',
    minimum: 0,
    example: 3000,
  })
  duration?: number;

  @ApiPropertyOptional({
    description: 'End the job as failed instead of completed',
    example: false,
  })
  fail?: boolean;
}
