import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import { type JobsDriver } from '../config/app-config.js';
import { InMemoryWebhookQueue } from './in-memory-webhook-queue.js';
import { InMemoryWebhookState } from './in-memory-webhook-state.js';
import { JOB_WEBHOOKS } from './job-webhooks.js';
import { WebhookDispatcher } from './webhook-dispatcher.js';
import { WEBHOOK_QUEUE } from './webhook-queue.js';
import { WebhookSecretController } from './webhook-secret.controller.js';
import { WebhookSecrets } from './webhook-secrets.js';
import { WEBHOOK_STATE } from './webhook-state.js';

/** The queue and the state of a driver; the redis ones loaded only when chosen, like BullMQ's runner. */
async function driverProviders(driver: JobsDriver): Promise<Provider[]> {
  if (driver === 'memory') {
    return [
      { provide: WEBHOOK_QUEUE, useClass: InMemoryWebhookQueue },
      { provide: WEBHOOK_STATE, useClass: InMemoryWebhookState },
    ];
  }
  const [{ BullmqWebhookQueue }, { RedisWebhookState }] = await Promise.all([
    import('./bullmq-webhook-queue.js'),
    import('./redis-webhook-state.js'),
  ]);
  return [
    { provide: WEBHOOK_QUEUE, useClass: BullmqWebhookQueue },
    { provide: WEBHOOK_STATE, useClass: RedisWebhookState },
  ];
}

/**
 * Webhooks (issue 19): imported by JobsModule.forRoot with its driver; JobChanges (changes/) tells
 * the dispatcher every change, and DeliveriesController (jobs/) shows the history.
 * SHARED_REDIS, for the redis driver, comes from the global JobsModule.
 */
@Module({})
export class WebhooksModule {
  static async forRoot(driver: JobsDriver): Promise<DynamicModule> {
    return {
      module: WebhooksModule,
      controllers: [WebhookSecretController],
      providers: [
        ...(await driverProviders(driver)),
        WebhookSecrets,
        WebhookDispatcher,
        { provide: JOB_WEBHOOKS, useExisting: WebhookDispatcher },
      ],
      exports: [JOB_WEBHOOKS, WebhookDispatcher],
    };
  }
}
