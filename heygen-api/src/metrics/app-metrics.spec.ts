import { describe, expect, it } from 'vitest';
import { AppMetrics } from './app-metrics.js';

describe(AppMetrics.name, () => {
  // A series that appears at its first change makes `rate()` over that change read 0.
  it('should show every labelled series at 0 before anything is counted', async () => {
    const text = await new AppMetrics().scrape();

    for (const series of [
      'heygen_jobs_finished_total{status="completed"} 0',
      'heygen_jobs_finished_total{status="failed"} 0',
      'heygen_jobs_finished_total{status="cancelled"} 0',
      'heygen_stream_resumes_total{answer="replay"} 0',
      'heygen_stream_resumes_total{answer="snapshot"} 0',
      'heygen_poll_requests_total{kind="single"} 0',
      'heygen_poll_requests_total{kind="batch"} 0',
      'heygen_webhook_deliveries_given_up_total{reason="schedule_ended"} 0',
      'heygen_webhook_deliveries_given_up_total{reason="gone"} 0',
      'heygen_webhook_deliveries_given_up_total{reason="retained_jobs_cap"} 0',
      'heygen_jobs_evicted_total{limit="jobs_per_client"} 0',
      'heygen_jobs_evicted_total{limit="retained_jobs"} 0',
    ]) {
      expect(text.split('\n')).toContain(series);
    }
  });

  it('should count each labelled series on its own', async () => {
    const metrics = new AppMetrics();
    metrics.webhookGivenUp('gone');
    metrics.webhookGivenUp('gone');

    const lines = (await metrics.scrape()).split('\n');
    expect(lines).toContain('heygen_webhook_deliveries_given_up_total{reason="gone"} 2');
    expect(lines).toContain('heygen_webhook_deliveries_given_up_total{reason="schedule_ended"} 0');
  });

  it('should count the jobs a creation evicted, by the limit that made it', async () => {
    const metrics = new AppMetrics();
    metrics.jobCreated({ perClient: 2, retained: 0 });
    metrics.jobCreated({ perClient: 0, retained: 3 });
    metrics.jobCreated({ perClient: 0, retained: 0 });

    const lines = (await metrics.scrape()).split('\n');
    expect(lines).toContain('heygen_jobs_created_total 3');
    expect(lines).toContain('heygen_jobs_evicted_total{limit="jobs_per_client"} 2');
    expect(lines).toContain('heygen_jobs_evicted_total{limit="retained_jobs"} 3');
  });
});
