import { Controller, Get, HttpCode, Inject, Param, Post } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTooManyRequestsResponse,
} from '@nestjs/swagger';
import { type ClientKey } from '../domain/client.js';
import { ErrorDto, RETRY_AFTER_HEADERS } from '../errors/error.dto.js';
import { ClientApi } from '../http/client-api.decorator.js';
import { ClientId } from '../http/client-id.decorator.js';
import { WebhookDispatcher, type DeliveryHistory } from '../webhooks/webhook-dispatcher.js';
import { DeliveryHistoryDto, DeliveryRetryDto } from '../webhooks/webhook-dto.js';
import { JobsService } from './jobs.service.js';
import { JobIdPipe } from './pipes/job-id.pipe.js';
import { JOB_ID_SCHEMA } from './schemas.js';

/**
 * A job's webhook deliveries (docs/protocol.md, "Webhooks"): owned like the job, so another
 * client's job answers 404 JOB_NOT_FOUND, as on GET /status/:id. Here rather than in webhooks/,
 * which jobs/ depends on: folders import one way only (scripts/check-import-cycles.mjs).
 */
@ClientApi()
@Controller('status/:id/deliveries')
export class DeliveriesController {
  constructor(
    @Inject(JobsService) private readonly jobs: JobsService,
    @Inject(WebhookDispatcher) private readonly webhooks: WebhookDispatcher,
  ) {}

  @Get()
  @ApiOperation({ operationId: 'listDeliveries', summary: "Every attempt of a job's webhook" })
  @ApiParam({ name: 'id', schema: JOB_ID_SCHEMA })
  @ApiOkResponse({ type: DeliveryHistoryDto })
  @ApiNotFoundResponse({ type: ErrorDto })
  async list(
    @ClientId() clientId: ClientKey,
    @Param('id', JobIdPipe) id: number,
  ): Promise<DeliveryHistory> {
    await this.jobs.get(clientId, id);
    return this.webhooks.history(clientId, id);
  }

  @Post(':deliveryId/retry')
  @HttpCode(202)
  @ApiOperation({ operationId: 'retryDelivery', summary: 'Send a delivery again now' })
  @ApiParam({ name: 'id', schema: JOB_ID_SCHEMA })
  @ApiParam({ name: 'deliveryId', schema: { type: 'string', format: 'uuid' } })
  @ApiAcceptedResponse({
    type: DeliveryRetryDto,
    description:
      'The attempt is under way (a retry asked while one is joins it); the history lists it',
  })
  @ApiTooManyRequestsResponse({
    type: ErrorDto,
    headers: RETRY_AFTER_HEADERS,
    description: 'RATE_LIMITED: this instance is making as many manual attempts as it may (64)',
  })
  @ApiNotFoundResponse({
    type: ErrorDto,
    description: 'JOB_NOT_FOUND, or DELIVERY_NOT_FOUND: the job has no such delivery (kept)',
  })
  async retry(
    @ClientId() clientId: ClientKey,
    @Param('id', JobIdPipe) id: number,
    @Param('deliveryId') deliveryId: string,
  ): Promise<{ deliveryId: string }> {
    await this.jobs.get(clientId, id);
    await this.webhooks.retry(clientId, id, deliveryId);
    return { deliveryId };
  }
}
