import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { startReceiver } from '../../test/support/webhook-receiver.js';
import { clientStub, configStub } from '../../test/unit/stubs.js';
import { cancel, newJob, progressTo, start, type Job } from '../domain/job.js';
import { type JobEvent } from '../events/job-events.js';
import { AppMetrics } from '../metrics/app-metrics.js';
import { InMemoryWebhookQueue } from './in-memory-webhook-queue.js';
import { InMemoryWebhookState } from './in-memory-webhook-state.js';
import { WebhookDispatcher } from './webhook-dispatcher.js';
import { WebhookSecrets } from './webhook-secrets.js';
import { type WebhookSubscription } from './webhook-subscriptions.js';

const JOB_ID = 17;
let sequence = 0;

/** The dispatcher of the memory driver, on its real state, queue and sender. */
function newDispatcher() {
  const config = configStub({ WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_RETRY_SCHEDULE: '0' });
  const state = new InMemoryWebhookState(config);
  const queue = new InMemoryWebhookQueue();
  const sut = new WebhookDispatcher(
    config,
    queue,
    state,
    new WebhookSecrets(config),
    new AppMetrics(),
  );
  onTestFinished(() => {
    sut.onModuleDestroy();
    queue.onModuleDestroy();
    state.onModuleDestroy();
  });
  return { sut, state };
}

const eventOf = (job: Job): JobEvent => ({ id: String(++sequence), clientId: clientStub, job });

describe(WebhookDispatcher.name, () => {
  it("should send no progress heard after the job's final change (review of 2026-12-01)", async () => {
    const { sut, state } = newDispatcher();
    const receiver = await startReceiver();
    await sut.subscribe(clientStub, JOB_ID, {
      url: receiver.url,
      events: new Set(['progress', 'cancelled']),
    });
    const now = Date.now();
    const running = start(newJob(JOB_ID, 10_000, now), now)!;
    const progressed = progressTo(40)(running, now + 1)!;
    const cancelled = cancel(progressed, now + 2)!;

    // The cancel, made on one instance, is told before a progress change the runner's instance
    // held back and tells late.
    await sut.changed(eventOf(cancelled));
    await sut.changed(eventOf(progressed));

    await vi.waitFor(() => expect(receiver.received).toHaveLength(1));
    expect(JSON.parse(receiver.received[0]!.body)).toMatchObject({ type: 'job.cancelled' });
    // No delivery was made of it at all: the memory driver's subscription is its deliveries.
    const subscription = (await state.subscription(clientStub, JOB_ID)) as WebhookSubscription;
    expect([...subscription.deliveries.values()].map((d) => d.type)).toEqual(['job.cancelled']);
    expect((await sut.history(clientStub, JOB_ID)).attempts.map((a) => a.type)).toEqual([
      'job.cancelled',
    ]);
  });
});
