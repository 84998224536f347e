import { Controller, Get, HttpCode, Inject, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import { type ClientKey } from '../domain/client.js';
import { ClientApi } from '../http/client-api.decorator.js';
import { ClientId } from '../http/client-id.decorator.js';
import { WebhookSecretDto } from './webhook-dto.js';
import { WebhookSecrets } from './webhook-secrets.js';

/**
 * The secret a receiver verifies webhooks with: one per API key, so any uuid under the key sees
 * the same one; authenticated like every client route.
 */
@ClientApi()
@Controller('webhooks/secret')
export class WebhookSecretController {
  constructor(@Inject(WebhookSecrets) private readonly secrets: WebhookSecrets) {}

  @Get()
  @ApiOperation({ operationId: 'getWebhookSecret', summary: 'The webhook signing secret' })
  @ApiOkResponse({ type: WebhookSecretDto })
  async secret(@ClientId() clientId: ClientKey): Promise<WebhookSecretDto> {
    return { secret: await this.secrets.secretOf(clientId) };
  }

  @Post('rotate')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'rotateWebhookSecret',
    summary: 'A new signing secret; the old one also signs for WEBHOOK_SECRET_GRACE_S',
  })
  @ApiOkResponse({ type: WebhookSecretDto })
  rotate(@ClientId() clientId: ClientKey): Promise<WebhookSecretDto> {
    return this.secrets.rotate(clientId);
  }
}
