import {
  Body,
  Controller,
  Get,
  HttpCode,
  Inject,
  Param,
  Post,
  Query,
  Req,
  Res,
} from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiCreatedResponse,
  ApiHeader,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiQuery,
  ApiTags,
} from '@nestjs/swagger';
import { type Request, type Response } from 'express';
import { AppConfig } from '../config/app-config.js';
import { Header } from '../http/header.decorator.js';
import { StatusStreamService } from '../sse/status-stream.service.js';
import { BatchDto, ErrorDto, JobDto } from './dto/job.dto.js';
import { CreateJobDto } from './dto/create-job.dto.js';
import { type Job } from './job.js';
import { JobsService, type BatchResult } from './jobs.service.js';
import { ClientIdPipe } from './pipes/client-id.pipe.js';
import { CreateJobPipe } from './pipes/create-job.pipe.js';
import { IdempotencyKeyPipe } from './pipes/idempotency-key.pipe.js';
import { JobIdPipe } from './pipes/job-id.pipe.js';
import { JobIdsPipe } from './pipes/job-ids.pipe.js';
import { batchPollHintMs, pollHintMs } from './poll-hint.js';

const POLL_HINT_HEADER = 'X-Next-Poll-Ms';

/** The job endpoints (docs/protocol.md, "Endpoints"): validates, delegates, and sets headers. */
@ApiTags('jobs')
@ApiQuery({
  name: 'uuid',
  description: 'The calling client: a UUID it generated once',
  required: true,
})
@ApiBadRequestResponse({ type: ErrorDto, description: 'Bad uuid, id, body or query' })
@Controller()
export class JobsController {
  constructor(
    @Inject(AppConfig) private readonly config: AppConfig,
    @Inject(JobsService) private readonly jobs: JobsService,
    @Inject(StatusStreamService) private readonly streams: StatusStreamService,
  ) {}

  @Post('create')
  @ApiOperation({ summary: 'Create a job owned by the calling client' })
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: 'Retry-safe creation' })
  @ApiCreatedResponse({ type: JobDto, description: 'Created; Location names it' })
  @ApiOkResponse({ type: JobDto, description: 'Replayed: the job this Idempotency-Key created' })
  async create(
    @Query('uuid', ClientIdPipe) clientId: string,
    @Header('idempotency-key', IdempotencyKeyPipe) idempotencyKey: string | undefined,
    // No body at all means the defaults.
    @Body(CreateJobPipe) body: CreateJobDto,
    @Res({ passthrough: true }) res: Response,
  ): Promise<Job> {
    const { job, created } = await this.jobs.create(clientId, body, idempotencyKey);
    res.status(created ? 201 : 200);
    if (!created) res.setHeader('Idempotent-Replayed', 'true');
    res.location(`/status/${job.id}`);
    return this.withHint(res, job);
  }

  @Get('status/:id')
  @ApiOperation({ summary: "One job's status" })
  @ApiOkResponse({ type: JobDto })
  @ApiNotFoundResponse({ type: ErrorDto })
  async status(
    @Query('uuid', ClientIdPipe) clientId: string,
    @Param('id', JobIdPipe) id: number,
    @Res({ passthrough: true }) res: Response,
  ): Promise<Job> {
    return this.withHint(res, await this.jobs.get(clientId, id));
  }

  /** JSON batch, or the event stream when the client accepts text/event-stream. */
  @Get('status')
  @ApiOperation({
    summary:
      "Many of the client's jobs in one request, or (Accept: text/event-stream) the event stream",
  })
  @ApiProduces('application/json', 'text/event-stream')
  @ApiQuery({
    name: 'ids',
    required: false,
    description: 'Comma-separated job ids; all jobs when absent',
  })
  @ApiOkResponse({ type: BatchDto })
  async batchOrStream(
    @Query('uuid', ClientIdPipe) clientId: string,
    @Query('ids', JobIdsPipe) ids: number[] | undefined,
    @Query('lastEventId') lastEventIdQuery: unknown,
    @Header('last-event-id') lastEventIdHeader: string | string[] | undefined,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    if (req.accepts(['application/json', 'text/event-stream']) === 'text/event-stream') {
      // [spec] the header is what an EventSource sends on its own reconnects, so it wins.
      const lastEventId =
        (typeof lastEventIdHeader === 'string' ? lastEventIdHeader : undefined) ??
        (typeof lastEventIdQuery === 'string' ? lastEventIdQuery : undefined);
      return this.streams.open(req, res, clientId, lastEventId);
    }
    const batch: BatchResult = await this.jobs.getMany(clientId, ids);
    const hint = batchPollHintMs(batch.jobs, Date.now(), this.config.pollHintMarginMs);
    if (hint !== undefined) res.setHeader(POLL_HINT_HEADER, String(hint));
    res.json(batch);
  }

  @Post('cancel/:id')
  @HttpCode(200)
  @ApiOperation({ summary: 'Cancel a job that has not finished' })
  @ApiOkResponse({ type: JobDto })
  @ApiNotFoundResponse({ type: ErrorDto })
  async cancel(
    @Query('uuid', ClientIdPipe) clientId: string,
    @Param('id', JobIdPipe) id: number,
  ): Promise<Job> {
    return this.jobs.cancel(clientId, id);
  }

  private withHint(res: Response, job: Job): Job {
    const hint = pollHintMs(job, Date.now(), this.config.pollHintMarginMs);
    if (hint !== undefined) res.setHeader(POLL_HINT_HEADER, String(hint));
    return job;
  }
}
