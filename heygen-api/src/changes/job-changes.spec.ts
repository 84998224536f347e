import { describe, expect, it } from 'vitest';
import { clientStub, strictMock } from '../../test/unit/stubs.js';
import { type JobWatches } from '../deadlines/job-watches.js';
import { complete, newJob, start } from '../domain/job.js';
import { AppMetrics } from '../metrics/app-metrics.js';
import { type JobWebhooks } from '../webhooks/job-webhooks.js';
import { JobChanges } from './job-changes.js';

const NOW = Date.parse('2026-01-01T00:00:00Z');

async function counted(metrics: AppMetrics, name: string): Promise<number> {
  const metric = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === name);
  return metric?.values.reduce((sum, value) => sum + value.value, 0) ?? 0;
}

function setUp() {
  const told: string[] = [];
  let release = (): void => {};
  const webhooks = {
    givenUpWithJobs: strictMock<JobWebhooks['givenUpWithJobs']>('givenUpWithJobs'),
    check: strictMock<JobWebhooks['check']>('check'),
    subscribe: strictMock<JobWebhooks['subscribe']>('subscribe'),
    changed: strictMock<JobWebhooks['changed']>('changed').mockImplementation((event) => {
      told.push(`${event.job.status} ${event.id}`);
      return new Promise<void>((resolve) => (release = resolve));
    }),
  };
  const forget = strictMock<JobWatches['forget']>('forget').mockImplementation(() => {});
  const watches = { forget } as unknown as JobWatches;
  const metrics = new AppMetrics();
  const sut = new JobChanges(metrics, undefined, webhooks, watches);
  return { sut, metrics, told, forget, webhooks, release: () => release() };
}

describe('JobChanges', () => {
  const pending = newJob(1, 1000, NOW);
  const running = start(pending, NOW + 10)!;
  const done = complete(running, NOW + 1000)!;

  it('should count a creation, which is no webhook event', async () => {
    const { sut, metrics, told } = setUp();
    sut.created({ id: '1', clientId: clientStub, job: pending }, { perClient: 0, retained: 0 });
    expect(await counted(metrics, 'heygen_jobs_created_total')).toBe(1);
    expect(told).toEqual([]);
  });

  it('should tell the webhooks of the deliveries a creation gave up with the jobs it forgot', () => {
    const { sut, webhooks } = setUp();
    webhooks.givenUpWithJobs.mockImplementation(() => {});
    const event = { id: '1', clientId: clientStub, job: pending };
    sut.created(event, { perClient: 0, retained: 2, webhooksGivenUp: 0 });
    expect(webhooks.givenUpWithJobs).not.toHaveBeenCalled();
    sut.created(event, { perClient: 0, retained: 2, webhooksGivenUp: 3 });
    expect(webhooks.givenUpWithJobs).toHaveBeenCalledExactlyOnceWith(3);
  });

  it('should settle a change only once its webhook delivery is queued', async () => {
    const { sut, told, forget, release } = setUp();
    let settled = false;
    const changed = sut.changed({ id: '2', clientId: clientStub, job: running }).then(() => {
      settled = true;
    });
    await Promise.resolve();
    expect(told).toEqual(['running 2']);
    expect(settled).toBe(false);
    expect(forget).not.toHaveBeenCalled();
    release();
    await changed;
    expect(settled).toBe(true);
  });

  it('should count a finished job, forget its watch, and tell the webhooks', async () => {
    const { sut, metrics, told, forget, release } = setUp();
    const changed = sut.changed({ id: '3', clientId: clientStub, job: done });
    release();
    await changed;
    expect(forget).toHaveBeenCalledWith(clientStub, done.id);
    expect(await counted(metrics, 'heygen_jobs_finished_total')).toBe(1);
    expect(told).toEqual(['completed 3']);
  });

  it('should tell an announced change to the webhooks only', async () => {
    const { sut, metrics, told, forget, release } = setUp();
    const announced = sut.announced({ id: '3', clientId: clientStub, job: done });
    release();
    await announced;
    expect(told).toEqual(['completed 3']);
    expect(forget).not.toHaveBeenCalled();
    expect(await counted(metrics, 'heygen_jobs_finished_total')).toBe(0);
  });
});
