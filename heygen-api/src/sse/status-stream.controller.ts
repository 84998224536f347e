import { Controller, Get, Inject, Query, Req, Res } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiQuery } from '@nestjs/swagger';
import { type IncomingHttpHeaders } from 'node:http';
import { AppConfig } from '../config/app-config.js';
import { type ClientKey } from '../domain/client.js';
import { prefersEventStream } from '../http/accept.js';
import { ClientApi } from '../http/client-api.decorator.js';
import { ClientId } from '../http/client-id.decorator.js';
import { rawRequest, takeOverResponse } from '../http/raw.js';
import { RequestHeader } from '../http/request-header.decorator.js';
import { BatchDto } from '../jobs/dto/job.dto.js';
import { JobsService } from '../jobs/jobs.service.js';
import { JobIdsPipe } from '../jobs/pipes/job-ids.pipe.js';
import { revisionsByIds, RevisionsPipe } from '../jobs/pipes/revision.pipe.js';
import { batchPollHintMs, POLL_HINT_HEADER } from '../jobs/poll-hint.js';
import { JOB_ID_LIST_SCHEMA, REVISION_LIST_SCHEMA } from '../jobs/schemas.js';
import { AppMetrics } from '../metrics/app-metrics.js';
import { JobWaits } from '../waits/job-waits.js';
import { PreferWaitPipe } from '../waits/prefer-wait.pipe.js';
import { ApiPreferWait, HELD_ANSWER_HEADERS } from '../waits/wait-api.decorator.js';
import { answeredAtOnce, connectionOf, setWaitHeaders } from '../waits/wait-answer.js';
import { STREAM_HEADERS } from './sse-connection.js';
import { StatusStreamService } from './status-stream.service.js';
import { RateLimited } from '../rate-limits/rate-limited.decorator.js';

/**
 * GET /status: the event stream for a client that accepts text/event-stream, else the JSON batch
 * (docs/protocol.md, "Endpoints"), which `Prefer: wait` may hold (JobWaits). The path is the
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
  @RateLimited('status')
  @ApiOperation({
    operationId: 'getJobs',
    summary:
      "Many of the client's jobs in one request (with Prefer: wait, held until one finishes or passes its revision), or (Accept: text/event-stream) the event stream",
  })
  @ApiProduces('application/json', 'text/event-stream')
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
  @ApiPreferWait()
  @ApiOkResponse({ type: BatchDto, headers: HELD_ANSWER_HEADERS })
  async streamOrBatch(
    @ClientId() clientId: ClientKey,
    @Query('ids', JobIdsPipe) ids: number[] | undefined,
    @Query('revisions', RevisionsPipe) revisions: number[] | undefined,
    @RequestHeader('prefer', PreferWaitPipe) wait: number | undefined,
    @Query('lastEventId') lastEventIdQuery: unknown,
    @RequestHeader('last-event-id') lastEventIdHeader: string | string[] | undefined,
    @Req() req: { headers: IncomingHttpHeaders; method: string },
    @Res() res: object,
  ): Promise<void> {
    if (prefersEventStream(req.headers.accept)) {
      // [spec] the header is what an EventSource sends on its own reconnects, so it wins.
      const lastEventId =
        (typeof lastEventIdHeader === 'string' ? lastEventIdHeader : undefined) ??
        (typeof lastEventIdQuery === 'string' ? lastEventIdQuery : undefined);
      // The stream writes to Node's response under either adapter (Fastify's is told to let go).
      const raw = takeOverResponse(res);
      // HEAD answers the stream's head and nothing more: no slot, no subscription (issue 18).
      if (req.method === 'HEAD') {
        raw.writeHead(200, STREAM_HEADERS).end();
        return;
      }
      return this.streams.open(raw, rawRequest(req).socket, clientId, lastEventId);
    }
    const outcome = await this.waits.wait({
      clientId,
      ids,
      revisions: revisionsByIds(ids, revisions),
      seconds: wait,
      read: () => this.jobs.getMany(clientId, ids),
      ...connectionOf(req, res),
    });
    const http = this.adapterHost.httpAdapter;
    setWaitHeaders(http, res, outcome);
    const batch = outcome.listed;
    // Without ids the batch lists every job kept, long-finished ones too: no poll of those.
    const polledJobs = ids === undefined ? [] : batch.jobs;
    this.metrics.polled('batch', polledJobs, this.config.pollHintMarginMs, answeredAtOnce(outcome));
    const hint = batchPollHintMs(batch.jobs, Date.now(), this.config.pollHintMarginMs);
    if (hint !== undefined) http.setHeader(res, POLL_HINT_HEADER, String(hint));
    http.reply(res, batch, 200);
  }
}
