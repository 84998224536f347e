import { Controller, Get, Inject, Query, Req, Res } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import {
  ApiExtraModels,
  ApiGoneResponse,
  ApiOkResponse,
  ApiOperation,
  ApiQuery,
  ApiServiceUnavailableResponse,
  ApiTooManyRequestsResponse,
  getSchemaPath,
} from '@nestjs/swagger';
import { type IncomingHttpHeaders } from 'node:http';
import { AcceptsQueryKey } from '../auth/query-key.decorator.js';
import { AppConfig } from '../config/app-config.js';
import { type ClientKey } from '../domain/client.js';
import { ErrorDto, RETRY_AFTER_HEADERS } from '../errors/error.dto.js';
import {
  advertiseReplayWindow,
  CATCH_UP_LIMIT_SCHEMA,
  CatchUpLimitPipe,
  catchUpQuery,
  EVENT_ID_SCHEMA,
  EventIdPipe,
  MAX_CATCH_UP_EVENTS,
  REPLAY_WINDOW_HEADERS,
} from '../events/catch-up.js';
import { prefersEventStream } from '../http/accept.js';
import { ClientApi } from '../http/client-api.decorator.js';
import { ClientId } from '../http/client-id.decorator.js';
import { rawRequest, takeOverResponse } from '../http/raw.js';
import { RequestHeader } from '../http/request-header.decorator.js';
import { BatchDto, CatchUpDto } from '../jobs/dto/job.dto.js';
import { JobsService } from '../jobs/jobs.service.js';
import { listPageQuery, StartingAfterPipe } from '../jobs/job-list-page.js';
import { JobIdsPipe } from '../jobs/pipes/job-ids.pipe.js';
import { revisionsByIds, RevisionsPipe } from '../jobs/pipes/revision.pipe.js';
import { batchPollHintMs, POLL_HINT_HEADER } from '../jobs/poll-hint.js';
import { JOB_ID_LIST_SCHEMA, JOB_ID_SCHEMA, REVISION_LIST_SCHEMA } from '../jobs/schemas.js';
import { AppMetrics } from '../metrics/app-metrics.js';
import { JobWaits } from '../waits/job-waits.js';
import { PreferWaitPipe } from '../waits/prefer-wait.pipe.js';
import { WaitQueryPipe } from '../waits/wait-query.pipe.js';
import { ApiPreferWait, BATCH_ANSWER_HEADERS } from '../waits/wait-api.decorator.js';
import { connectionOf, countPoll, setWaitHeaders } from '../waits/wait-answer.js';
import { STREAM_HEAD_HEADERS } from './sse-connection.js';
import { StatusStreamService } from './status-stream.service.js';
import { RateLimited } from '../rate-limits/rate-limited.decorator.js';

/**
 * GET /status: the event stream for a client that accepts text/event-stream, else the JSON batch
 * (docs/protocol.md, "Endpoints"), which `Prefer: wait` may hold (JobWaits), or with `?after=` the
 * client's events since that id (HTTP catch-up). The path is the
 * stream's, and the batch is answered by JobsService, so the stream depends on the jobs module and
 * never the other way round.
 */
@ClientApi()
@Controller('status')
export class StatusStreamController {
  constructor(
    @Inject(AppConfig) private readonly config: AppConfig,
    @Inject(JobsService) private readonly jobs: JobsService,
    @Inject(StatusStreamService) private readonly streams: StatusStreamService,
    @Inject(JobWaits) private readonly waits: JobWaits,
    @Inject(HttpAdapterHost) private readonly adapterHost: HttpAdapterHost,
    @Inject(AppMetrics) private readonly metrics: AppMetrics,
  ) {}

  @Get()
  @AcceptsQueryKey()
  @RateLimited('status')
  @ApiOperation({
    operationId: 'getJobs',
    summary:
      "Many of the client's jobs in one request (with Prefer: wait, held until one finishes or passes its revision), or (with after) the client's events since an eventId, or (Accept: text/event-stream) the event stream",
  })
  @ApiExtraModels(BatchDto, CatchUpDto)
  @ApiQuery({
    name: 'ids',
    required: false,
    schema: JOB_ID_LIST_SCHEMA,
    description: 'Comma-separated job ids (at most MAX_BATCH_IDS); all jobs when absent',
  })
  @ApiQuery({
    name: 'revisions',
    required: false,
    schema: REVISION_LIST_SCHEMA,
    description:
      'Batch only, with ids: the revision the client has of each id, in the order of ids (0: none). A held request answers once any listed job is past its revision, instead of once one finishes',
  })
  @ApiQuery({
    name: 'lastEventId',
    required: false,
    schema: { type: 'string' },
    description: 'Stream only: where to resume, for a client that cannot send Last-Event-ID',
  })
  @ApiQuery({
    name: 'after',
    required: false,
    schema: EVENT_ID_SCHEMA,
    description:
      "HTTP catch-up: answer the client's events after this eventId, oldest first, instead of the batch (not with ids, revisions or a held wait)",
  })
  @ApiQuery({
    name: 'limit',
    required: false,
    schema: CATCH_UP_LIMIT_SCHEMA,
    description: `With after: the most events in the answer (default and at most ${MAX_CATCH_UP_EVENTS}). Without after or ids: the most jobs in the answer, a page of the list of all jobs (see startingAfter; default: the whole list)`,
  })
  @ApiQuery({
    name: 'startingAfter',
    required: false,
    schema: JOB_ID_SCHEMA,
    description:
      'A page of the list of all jobs: the jobs after this id, oldest first (the last id of the page before; not with ids, revisions, after or wait)',
  })
  @ApiPreferWait()
  // The stream is this route's only text/event-stream answer: its refusals are JSON.
  @ApiOkResponse({
    description: 'The batch, or with after the catch-up; or, asked with Accept, the event stream',
    headers: { ...BATCH_ANSWER_HEADERS, ...REPLAY_WINDOW_HEADERS },
    content: {
      'application/json': {
        schema: {
          oneOf: [{ $ref: getSchemaPath(BatchDto) }, { $ref: getSchemaPath(CatchUpDto) }],
        },
      },
      'text/event-stream': {
        schema: {
          type: 'string',
          description: 'Server-Sent Events: docs/protocol.md, "The event stream"',
        },
      },
    },
  })
  @ApiGoneResponse({
    type: ErrorDto,
    description:
      'RESYNC_REQUIRED: after is older than the replay window, or unknown to this client',
  })
  @ApiTooManyRequestsResponse({
    type: ErrorDto,
    headers: RETRY_AFTER_HEADERS,
    description:
      'TOO_MANY_STREAMS: the client has MAX_STREAMS_PER_CLIENT open streams; RATE_LIMITED: past a RATE_LIMIT_STREAMS_*, RATE_LIMIT_WAITS_* or RATE_LIMIT_LISTS_* limit (streams opened, held waits, lists of all jobs: without ids)',
  })
  @ApiServiceUnavailableResponse({
    type: ErrorDto,
    headers: RETRY_AFTER_HEADERS,
    description:
      'A stream refused: SERVER_STREAMS_FULL (MAX_STREAMS open streams) or SHUTTING_DOWN; STORE_UNAVAILABLE: with JOBS_DRIVER=redis, Redis cannot be reached',
  })
  async streamOrBatch(
    @ClientId() clientId: ClientKey,
    @Query('ids', JobIdsPipe) ids: number[] | undefined,
    @Query('revisions', RevisionsPipe) revisions: number[] | undefined,
    @RequestHeader('prefer', PreferWaitPipe) prefer: number | undefined,
    @Query('wait', WaitQueryPipe) wait: number | undefined,
    @Query('lastEventId') lastEventIdQuery: unknown,
    @Query('after', EventIdPipe) after: string | undefined,
    @Query('limit', CatchUpLimitPipe) limit: number | undefined,
    @Query('startingAfter', StartingAfterPipe) startingAfter: number | undefined,
    @RequestHeader('last-event-id') lastEventIdHeader: string | string[] | undefined,
    @Req() req: { headers: IncomingHttpHeaders; method: string },
    @Res() res: object,
  ): Promise<void> {
    advertiseReplayWindow(res, this.config);
    if (prefersEventStream(req.headers.accept)) {
      // [spec] the header is what an EventSource sends on its own reconnects, so it wins.
      const lastEventId =
        (typeof lastEventIdHeader === 'string' ? lastEventIdHeader : undefined) ??
        (typeof lastEventIdQuery === 'string' ? lastEventIdQuery : undefined);
      // The stream writes to Node's response under either adapter (Fastify's is told to let go).
      const raw = takeOverResponse(res);
      // HEAD answers the stream's head and nothing more: no slot, no subscription (issue 18).
      if (req.method === 'HEAD') {
        raw.writeHead(200, STREAM_HEAD_HEADERS).end();
        return;
      }
      return this.streams.open(raw, rawRequest(req).socket, clientId, lastEventId);
    }
    const http = this.adapterHost.httpAdapter;
    const catchUp = catchUpQuery({ after, limit, ids, revisions, wait, startingAfter });
    if (catchUp) {
      http.reply(res, await this.streams.catchUp(clientId, catchUp.after, catchUp.limit), 200);
      return;
    }
    const page = listPageQuery({ limit, startingAfter, ids, revisions, wait });
    const outcome = await this.waits.wait({
      clientId,
      ids,
      revisions: revisionsByIds(ids, revisions),
      // A page is answered at once: a `Prefer: wait` is not applied (RFC 7240 lets it be ignored).
      seconds: page ? undefined : (wait ?? prefer),
      read: () => (page ? this.jobs.listPage(clientId, page) : this.jobs.getMany(clientId, ids)),
      ...connectionOf(req, res),
    });
    setWaitHeaders(http, res, outcome);
    const batch = outcome.listed;
    // Without ids the batch lists every job kept, long-finished ones too: no poll of those.
    const polledJobs = ids === undefined ? [] : batch.jobs;
    countPoll(this.metrics, 'batch', polledJobs, this.config.pollHintMarginMs, outcome);
    const { jobs, missing, more, deadlines } = batch;
    const hint = batchPollHintMs(jobs, Date.now(), this.config.pollHintMarginMs, deadlines);
    if (hint !== undefined) http.setHeader(res, POLL_HINT_HEADER, String(hint));
    // The deadlines are the server's: not part of the answer.
    http.reply(res, more === undefined ? { jobs, missing } : { jobs, missing, more }, 200);
  }
}
