import { Controller, Get, Inject, Query, Req, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiQuery } from '@nestjs/swagger';
import { type Request, type Response } from 'express';
import { AppConfig } from '../config/app-config.js';
import { type ClientKey } from '../domain/client.js';
import { ClientApi } from '../http/client-api.decorator.js';
import { ClientId } from '../http/client-id.decorator.js';
import { RequestHeader } from '../http/request-header.decorator.js';
import { BatchDto } from '../jobs/dto/job.dto.js';
import { JobsService } from '../jobs/jobs.service.js';
import { JobIdsPipe } from '../jobs/pipes/job-ids.pipe.js';
import { batchPollHintMs, POLL_HINT_HEADER } from '../jobs/poll-hint.js';
import { STREAM_HEADERS } from './sse-connection.js';
import { StatusStreamService } from './status-stream.service.js';

/**
 * GET /status: the event stream for a client that accepts text/event-stream, else the JSON batch
 * (docs/protocol.md, "Endpoints"). The path is the stream's, and the batch is answered by
 * JobsService, so the stream depends on the jobs module and never the other way round.
 */
@ClientApi()
@Controller('status')
export class StatusStreamController {
  constructor(
    @Inject(AppConfig) private readonly config: AppConfig,
    @Inject(JobsService) private readonly jobs: JobsService,
    @Inject(StatusStreamService) private readonly streams: StatusStreamService,
  ) {}

  @Get()
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
  async streamOrBatch(
    @ClientId() clientId: ClientKey,
    @Query('ids', JobIdsPipe) ids: number[] | undefined,
    @Query('lastEventId') lastEventIdQuery: unknown,
    @RequestHeader('last-event-id') lastEventIdHeader: string | string[] | undefined,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    if (req.accepts(['application/json', 'text/event-stream']) === 'text/event-stream') {
      // [spec] the header is what an EventSource sends on its own reconnects, so it wins.
      const lastEventId =
        (typeof lastEventIdHeader === 'string' ? lastEventIdHeader : undefined) ??
        (typeof lastEventIdQuery === 'string' ? lastEventIdQuery : undefined);
      // HEAD answers the stream's head and nothing more: no slot, no subscription (issue 18).
      if (req.method === 'HEAD') {
        res.writeHead(200, STREAM_HEADERS).end();
        return;
      }
      // Express's response is a Node ServerResponse: the stream writes to it directly.
      return this.streams.open(res, req.socket, clientId, lastEventId);
    }
    const batch = await this.jobs.getMany(clientId, ids);
    const hint = batchPollHintMs(batch.jobs, Date.now(), this.config.pollHintMarginMs);
    if (hint !== undefined) res.setHeader(POLL_HINT_HEADER, String(hint));
    res.json(batch);
  }
}
