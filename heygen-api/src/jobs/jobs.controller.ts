import { Body, Controller, Get, HttpCode, Inject, Param, Post, Res } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiHeader,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
} from '@nestjs/swagger';
import { type Response } from 'express';
import { AppConfig } from '../config/app-config.js';
import { type ClientKey } from '../domain/client.js';
import { type Job } from '../domain/job.js';
import { ErrorDto } from '../errors/error.dto.js';
import { ClientApi } from '../http/client-api.decorator.js';
import { ClientId } from '../http/client-id.decorator.js';
import { RequestHeader } from '../http/request-header.decorator.js';
import { CreateJobDto } from './dto/create-job.dto.js';
import { JobDto } from './dto/job.dto.js';
import { JobsService } from './jobs.service.js';
import { CreateJobPipe } from './pipes/create-job.pipe.js';
import { IdempotencyKeyPipe } from './pipes/idempotency-key.pipe.js';
import { JobIdPipe } from './pipes/job-id.pipe.js';
import { POLL_HINT_HEADER, pollHintMs } from './poll-hint.js';

/**
 * The job endpoints (docs/protocol.md, "Endpoints"): validates, delegates, and sets headers.
 * GET /status, stream or batch, is StatusStreamController's.
 */
@ClientApi()
@Controller()
export class JobsController {
  constructor(
    @Inject(AppConfig) private readonly config: AppConfig,
    @Inject(JobsService) private readonly jobs: JobsService,
  ) {}

  @Post('create')
  @ApiOperation({ summary: 'Create a job owned by the calling client' })
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: 'Retry-safe creation' })
  @ApiCreatedResponse({ type: JobDto, description: 'Created; Location names it' })
  @ApiOkResponse({ type: JobDto, description: 'Replayed: the job this Idempotency-Key created' })
  async create(
    @ClientId() clientId: ClientKey,
    @RequestHeader('idempotency-key', IdempotencyKeyPipe) idempotencyKey: string | undefined,
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
    @ClientId() clientId: ClientKey,
    @Param('id', JobIdPipe) id: number,
    @Res({ passthrough: true }) res: Response,
  ): Promise<Job> {
    return this.withHint(res, await this.jobs.get(clientId, id));
  }

  @Post('cancel/:id')
  @HttpCode(200)
  @ApiOperation({ summary: 'Cancel a job that has not finished' })
  @ApiOkResponse({ type: JobDto })
  @ApiNotFoundResponse({ type: ErrorDto })
  async cancel(@ClientId() clientId: ClientKey, @Param('id', JobIdPipe) id: number): Promise<Job> {
    return this.jobs.cancel(clientId, id);
  }

  private withHint(res: Response, job: Job): Job {
    const hint = pollHintMs(job, Date.now(), this.config.pollHintMarginMs);
    if (hint !== undefined) res.setHeader(POLL_HINT_HEADER, String(hint));
    return job;
  }
}
