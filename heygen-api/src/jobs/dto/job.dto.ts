import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { type Job, type JobError, type JobStatus } from '../../domain/job.js';

// These classes describe responses for the OpenAPI document; the server itself uses the Job interface.

export class JobErrorDto implements JobError {
  @ApiProperty({ example: 'SIMULATED_FAILURE' }) code!: string;
  @ApiProperty({ example: 'The job failed, as its creation asked' }) message!: string;
}

export class JobDto implements Job {
  @ApiProperty({ example: 17 }) id!: number;
  @ApiProperty({ enum: ['pending', 'running', 'completed', 'failed', 'cancelled'] })
  status!: JobStatus;
  @ApiProperty({ minimum: 0, maximum: 100, example: 40 }) progress!: number;
  @ApiProperty({ description: 'Grows by one with every change of the job', example: 3 })
  revision!: number;
  @ApiProperty({ description: 'Run time in ms', example: 3000 }) duration!: number;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
  @ApiPropertyOptional({ format: 'date-time' }) startedAt?: string;
  @ApiPropertyOptional({ format: 'date-time' }) finishedAt?: string;
  @ApiProperty({ format: 'date-time', description: 'When the job is expected to finish' })
  expectedAt!: string;
  @ApiPropertyOptional({
    type: JobErrorDto,
    description:
      'Present when the job failed, or when the server cancelled it: code DEADLINE (Cancel-After) or UNWATCHED (cancelWhenUnwatched)',
  })
  error?: JobErrorDto;
  @ApiProperty({
    description:
      "The id of the latest event that produced this state (the stream's `id:`, the webhook-id): the cursor of `GET /status?after=`. Opaque",
    example: '1764504000123',
  })
  eventId!: string;
}

export class BatchDto {
  @ApiProperty({ type: [JobDto] }) jobs!: JobDto[];
  @ApiProperty({ type: [Number], description: 'Requested ids this client does not own' })
  missing!: number[];
  @ApiProperty({
    required: false,
    description:
      'A page of the list of all jobs (limit or startingAfter) only: more jobs follow; ask again with startingAfter = the last id',
  })
  more?: boolean;
}

export class CatchUpEventDto {
  @ApiProperty({ description: 'The event id, as the stream sends it', example: '1764504000123' })
  id!: string;
  @ApiProperty({ type: JobDto, description: 'The job as the event left it (its eventId is id)' })
  job!: JobDto;
}

export class CatchUpDto {
  @ApiProperty({
    type: [CatchUpEventDto],
    description: "The client's events after `after`, oldest first",
  })
  events!: CatchUpEventDto[];
  @ApiProperty({ description: 'More events follow: ask again with after = the last id' })
  more!: boolean;
}
