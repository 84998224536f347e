import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsInt, Min, ValidateIf } from 'class-validator';
import { type JobRequest } from '../jobs.service.js';

/** Optional, but `null` is a wrong type, not a missing field (unlike `@IsOmittable()`). */
const IsOmittable = () => ValidateIf((_, value) => value !== undefined);

/** Optional body of POST /create: steers the simulation of this one job. */
export class CreateJobDto implements JobRequest {
  @ApiPropertyOptional({
    description: 'Run time in ms instead of JOB_TIME; at most MAX_JOB_TIME_MS',
    minimum: 0,
    example: 3000,
  })
  @IsOmittable()
  @IsInt()
  @Min(0)
  duration?: number;

  @ApiPropertyOptional({
    description: 'End the job as failed instead of completed',
    example: false,
  })
  @IsOmittable()
  @IsBoolean()
  fail?: boolean;
}
