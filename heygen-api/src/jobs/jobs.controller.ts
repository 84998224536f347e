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
import { HttpAdapterHost } from '@nestjs/core';
import {
  ApiBody,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiHeader,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiQuery,
  ApiServiceUnavailableResponse,
  ApiTooManyRequestsResponse,
  ApiUnprocessableEntityResponse,
  type HeadersObject,
} from '@nestjs/swagger';
import { AppConfig } from '../config/app-config.js';
import { type ClientKey } from '../domain/client.js';
import { type Job } from '../domain/job.js';
import { ErrorDto, RETRY_AFTER_HEADERS } from '../errors/error.dto.js';
import { advertiseReplayWindow, REPLAY_WINDOW_HEADERS } from '../events/catch-up.js';
import { ClientApi } from '../http/client-api.decorator.js';
import { ClientId } from '../http/client-id.decorator.js';
import { RequestIp } from '../http/request-ip.decorator.js';
import { RequestHeader } from '../http/request-header.decorator.js';
import { AppMetrics } from '../metrics/app-metrics.js';
import { RateLimited } from '../rate-limits/rate-limited.decorator.js';
import { JobWaits } from '../waits/job-waits.js';
import { PreferWaitPipe } from '../waits/prefer-wait.pipe.js';
import { WaitQueryPipe } from '../waits/wait-query.pipe.js';
import { ApiPreferWait, HELD_ANSWER_HEADERS } from '../waits/wait-api.decorator.js';
import { connectionOf, countPoll, setWaitHeaders } from '../waits/wait-answer.js';
import { JobDto } from './dto/job.dto.js';
import { JobsService, type JobRequest } from './jobs.service.js';
import { CancelAfterPipe } from './pipes/cancel-after.pipe.js';
import { CreateJobPipe } from './pipes/create-job.pipe.js';
import { IdempotencyKeyPipe } from './pipes/idempotency-key.pipe.js';
import { JobIdPipe } from './pipes/job-id.pipe.js';
import { RevisionPipe } from './pipes/revision.pipe.js';
import { POLL_HINT_HEADER, pollHintMs } from './poll-hint.js';
import {
  CANCEL_AFTER_SCHEMA,
  CREATE_JOB_BODY_SCHEMA,
  IDEMPOTENCY_KEY_SCHEMA,
  JOB_ID_SCHEMA,
  REVISION_SCHEMA,
} from './schemas.js';

const JobIdParam = (): MethodDecorator =>
  ApiParam({ name: 'id', schema: JOB_ID_SCHEMA, description: 'The job id `POST /create` gave' });

/** The headers of a creation's answer (docs/protocol.md, "POST /create"). */
const CREATED_HEADERS: HeadersObject = {
  Location: {
    required: true,
    description: "The job's own URL: `/status/<id>`",
    schema: { type: 'string', example: '/status/17' },
  },
  [POLL_HINT_HEADER]: {
    required: true,
    description: 'The poll hint: ms until the client should ask about the job',
    schema: { type: 'integer', minimum: 0, example: 3010 },
  },
};

/** A replay answers the same job, which may have finished since (then without a poll hint). */
const REPLAYED_HEADERS: HeadersObject = {
  'Idempotent-Replayed': {
    required: true,
    description: 'Always `true`: the job this Idempotency-Key created, not a new one',
    schema: { type: 'string', enum: ['true'] },
  },
  Location: {
    description: "The job's own URL: `/status/<id>`",
    schema: { type: 'string', example: '/status/17' },
  },
  [POLL_HINT_HEADER]: {
    description: 'The poll hint, while the job is unfinished',
    schema: { type: 'integer', minimum: 0, example: 1210 },
  },
};

/**
 * The job endpoints (docs/protocol.md, "Endpoints"): validates, delegates, and sets headers
 * through the HTTP adapter, whichever it is. GET /status, stream or batch, is
 * StatusStreamController's.
 */
@ClientApi()
@Controller()
export class JobsController {
  constructor(
    @Inject(AppConfig) private readonly config: AppConfig,
    @Inject(JobsService) private readonly jobs: JobsService,
    @Inject(JobWaits) private readonly waits: JobWaits,
    @Inject(HttpAdapterHost) private readonly adapterHost: HttpAdapterHost,
    @Inject(AppMetrics) private readonly metrics: AppMetrics,
  ) {}

  @Post('create')
  @RateLimited('create')
  @ApiOperation({ operationId: 'createJob', summary: 'Create a job owned by the calling client' })
  @ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    schema: IDEMPOTENCY_KEY_SCHEMA,
    description: 'Retry-safe creation: the same key gives back the same job',
  })
  @ApiHeader({
    name: 'Cancel-After',
    required: false,
    schema: CANCEL_AFTER_SCHEMA,
    description:
      'A deadline counted from creation (90s, 5m, 1h30m, 1500ms, or seconds; at most 24h): a job not finished by then is cancelled with error DEADLINE',
  })
  @ApiBody({
    required: false,
    schema: CREATE_JOB_BODY_SCHEMA,
    description: 'No body: the defaults',
  })
  @ApiCreatedResponse({
    type: JobDto,
    description: 'Created; Location names it',
    headers: CREATED_HEADERS,
  })
  @ApiOkResponse({
    type: JobDto,
    description: 'Replayed: the job this Idempotency-Key created',
    headers: REPLAYED_HEADERS,
  })
  @ApiUnprocessableEntityResponse({
    type: ErrorDto,
    description: 'IDEMPOTENCY_KEY_REUSED: this Idempotency-Key came with a different request',
  })
  @ApiTooManyRequestsResponse({
    type: ErrorDto,
    headers: RETRY_AFTER_HEADERS,
    description:
      'TOO_MANY_JOBS: the client has MAX_ACTIVE_JOBS_PER_CLIENT unfinished jobs, or its address MAX_ACTIVE_JOBS_PER_ADDRESS; RATE_LIMITED: past RATE_LIMIT_CREATES_PER_CLIENT or RATE_LIMIT_CREATES_PER_ADDRESS',
  })
  @ApiServiceUnavailableResponse({
    type: ErrorDto,
    headers: RETRY_AFTER_HEADERS,
    description:
      'SERVER_JOBS_FULL: the server has MAX_ACTIVE_JOBS unfinished jobs; STORE_UNAVAILABLE: with JOBS_DRIVER=redis, Redis cannot be reached',
  })
  async create(
    @ClientId() clientId: ClientKey,
    @RequestHeader('idempotency-key', IdempotencyKeyPipe) idempotencyKey: string | undefined,
    @RequestHeader('cancel-after', CancelAfterPipe) cancelAfterMs: number | undefined,
    // No body at all means the defaults.
    @Body(CreateJobPipe) body: JobRequest,
    @Res({ passthrough: true }) res: object,
    @RequestIp() ip: string,
  ): Promise<Job> {
    const { job, created, cancelAt } = await this.jobs.create(
      clientId,
      body,
      idempotencyKey,
      cancelAfterMs,
      ip,
    );
    const http = this.adapterHost.httpAdapter;
    http.status(res, created ? 201 : 200);
    if (!created) http.setHeader(res, 'Idempotent-Replayed', 'true');
    http.setHeader(res, 'Location', `/status/${job.id}`);
    // The deadline ends the job no later than it: the first poll comes then, not at expectedAt.
    return this.withHint(res, job, cancelAt);
  }

  @Get('status/:id')
  @RateLimited('job')
  @ApiOperation({
    operationId: 'getJob',
    summary: "One job's status; with Prefer: wait, held until it finishes or passes `revision`",
  })
  @JobIdParam()
  @ApiQuery({
    name: 'revision',
    required: false,
    schema: REVISION_SCHEMA,
    description:
      'The revision of the job the client has (0: none): a held request answers once the job is past it, instead of once it finishes',
  })
  @ApiPreferWait()
  @ApiOkResponse({ type: JobDto, headers: { ...HELD_ANSWER_HEADERS, ...REPLAY_WINDOW_HEADERS } })
  @ApiNotFoundResponse({ type: ErrorDto })
  @ApiTooManyRequestsResponse({
    type: ErrorDto,
    headers: RETRY_AFTER_HEADERS,
    description:
      'RATE_LIMITED: past RATE_LIMIT_WAITS_PER_CLIENT or RATE_LIMIT_WAITS_PER_ADDRESS (held waits only)',
  })
  async status(
    @ClientId() clientId: ClientKey,
    @Param('id', JobIdPipe) id: number,
    @Query('revision', RevisionPipe) revision: number | undefined,
    @RequestHeader('prefer', PreferWaitPipe) prefer: number | undefined,
    @Query('wait', WaitQueryPipe) wait: number | undefined,
    @Req() req: object,
    @Res({ passthrough: true }) res: object,
  ): Promise<Job> {
    advertiseReplayWindow(res, this.config);
    const outcome = await this.waits.wait({
      clientId,
      ids: [id],
      revisions: revision === undefined ? undefined : new Map([[id, revision]]),
      seconds: wait ?? prefer,
      read: () => this.jobs.getOne(clientId, id),
      ...connectionOf(req, res),
    });
    setWaitHeaders(this.adapterHost.httpAdapter, res, outcome);
    const { jobs, deadlines } = outcome.listed;
    countPoll(this.metrics, 'single', jobs, this.config.pollHintMarginMs, outcome);
    return this.withHint(res, jobs[0]!, deadlines?.get(id));
  }

  @Post('cancel/:id')
  @HttpCode(200)
  @ApiOperation({ operationId: 'cancelJob', summary: 'Cancel a job that has not finished' })
  @JobIdParam()
  @ApiOkResponse({ type: JobDto })
  @ApiNotFoundResponse({ type: ErrorDto })
  @ApiConflictResponse({
    type: ErrorDto,
    description: 'JOB_FINISHED: the job has already finished; nothing changed',
  })
  async cancel(@ClientId() clientId: ClientKey, @Param('id', JobIdPipe) id: number): Promise<Job> {
    return this.jobs.cancel(clientId, id);
  }

  private withHint(res: object, job: Job, deadline?: number): Job {
    const hint = pollHintMs(job, Date.now(), this.config.pollHintMarginMs, deadline);
    if (hint !== undefined) {
      this.adapterHost.httpAdapter.setHeader(res, POLL_HINT_HEADER, String(hint));
    }
    return job;
  }
}
