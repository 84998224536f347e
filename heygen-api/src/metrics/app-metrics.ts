import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { type Job } from '../domain/job.js';
import { type Evicted } from '../store/job-store.js';
import { pollHintLateness } from './poll-hint-lateness.js';

/** Counts a gauge reads from the service that keeps them, when scraped (see `readAtScrape`). */
export type ScrapedCount =
  'openStreams' | 'heldWaits' | 'runningJobs' | 'webhookAttempts' | 'webhooksQueued';

/**
 * Why a pending webhook delivery will not be sent again on its schedule: its schedule ended, the
 * receiver answered 410 (every pending delivery of the job), or the memory driver dropped its
 * job's webhook at MAX_RETAINED_JOBS (the oldest finished job's).
 */
export type WebhookGiveUp = 'schedule_ended' | 'gone' | 'retained_jobs_cap';

/** Which status read a poll was: `GET /status/:id` or the JSON batch `GET /status?ids=`. */
export type PollKind = 'single' | 'batch';

/**
 * What the event streams tally with plain additions (sse/sse-connection.ts), turned into counters
 * when scraped: a job event reaches 10,000 streams, and a counter call per stream would cost more
 * than the write.
 */
export interface StreamTally {
  /** Events written to streams, heartbeats aside (`connected`, `snapshot`, `job`). */
  events: number;
  heartbeats: number;
  /** Events still in a stream's buffer when it was cut for falling behind (an upper bound). */
  dropped: number;
  /** Streams cut for falling behind STREAM_BUFFER_BYTES. */
  cut: number;
}

/**
 * Process metrics that walk every open handle or file descriptor when scraped: with 10,000 open
 * sockets a scrape took 15 ms with them, 0.4 ms without (the budget is 5 ms, issue 13).
 * `heygen_open_streams` counts the connections that matter.
 */
const COSTLY_DEFAULTS = [
  'process_open_fds',
  'nodejs_active_handles',
  'nodejs_active_handles_total',
  'nodejs_active_resources',
  'nodejs_active_resources_total',
];
/** From well under the margin to a held wait's longest (MAX_WAIT_S, 25 s by default). */
const HTTP_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
];
/** Around POLL_HINT_MARGIN_MS (10 ms) and the runner's 50 ms wake-up grid, then far off. */
const LATENESS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * This app's metrics (docs/metrics.md), on a registry of its own rather than prom-client's global
 * one: several apps in one test process must not share or collide on counts. Services record
 * facts through the methods below; `GET /metrics` (MetricsController) reads `registry`. Labels
 * take only a few fixed values: never a client id, job id, key or URL.
 */
@Injectable()
export class AppMetrics {
  readonly registry = new Registry();
  readonly streams: StreamTally = { events: 0, heartbeats: 0, dropped: 0, cut: 0 };

  private readonly scraped: Record<ScrapedCount, () => number> = {
    openStreams: () => 0,
    heldWaits: () => 0,
    runningJobs: () => 0,
    webhookAttempts: () => 0,
    webhooksQueued: () => 0,
  };
  private defaultsStarted = false;

  private readonly jobsCreated = this.counter('jobs_created_total', 'Jobs created');
  private readonly evictedBy = this.labelledCounter(
    'jobs_evicted_total',
    'Finished jobs forgotten before RETENTION_MS to make room for a new one, by the limit',
    'limit',
    ['jobs_per_client', 'retained_jobs'],
  );
  private readonly finishedByStatus = this.labelledCounter(
    'jobs_finished_total',
    'Jobs that reached a final state, by that state',
    'status',
    ['completed', 'failed', 'cancelled'],
  );
  private readonly resumedBy = this.labelledCounter(
    'stream_resumes_total',
    'Stream reconnects (with Last-Event-ID), by how they were answered',
    'answer',
    ['replay', 'snapshot'],
  );
  private readonly pollsOf = this.labelledCounter(
    'poll_requests_total',
    'Status reads: GET /status/:id (single) and the JSON batch GET /status (batch)',
    'kind',
    ['single', 'batch'],
  );
  private readonly givenUpFor = this.labelledCounter(
    'webhook_deliveries_given_up_total',
    'Webhook deliveries given up undelivered, by why',
    'reason',
    ['schedule_ended', 'gone', 'retained_jobs_cap'],
  );
  private readonly waitsHeld = this.counter(
    'waits_held_total',
    'Status requests held (Prefer: wait)',
  );
  private readonly hintLateness = new Histogram({
    name: 'heygen_poll_hint_lateness_seconds',
    help: 'How long after its finish a poll that waited the poll hint found a job final',
    buckets: LATENESS_BUCKETS,
    registers: [this.registry],
  });
  private readonly hintEarly = this.counter(
    'poll_hint_early_total',
    'Polls that waited the poll hint and found the job still unfinished',
  );

  /** Observed through HttpDurations (http-metrics.ts), which keeps a child per label set. */
  readonly httpDuration = new Histogram({
    name: 'heygen_http_request_duration_seconds',
    help: 'HTTP requests by route pattern, method and status code (event streams excluded)',
    labelNames: ['route', 'method', 'status_code'] as const,
    buckets: HTTP_BUCKETS,
    registers: [this.registry],
  });

  constructor() {
    this.tallied(
      'stream_events_sent_total',
      'Events written to streams (heartbeats aside)',
      'events',
    );
    this.tallied('stream_heartbeats_sent_total', 'Heartbeats written to streams', 'heartbeats');
    this.tallied(
      'stream_events_dropped_total',
      'Events left unread in the buffer of a stream cut for falling behind',
      'dropped',
    );
    this.tallied('stream_slow_reader_cuts_total', 'Streams cut for falling behind', 'cut');
    this.gauge('open_streams', 'Event streams open now', 'openStreams');
    this.gauge('waits_held', 'Status requests held now (Prefer: wait)', 'heldWaits');
    this.gauge('jobs_running', "Jobs this instance's runner is working on now", 'runningJobs');
    this.gauge(
      'webhook_attempts_in_flight',
      'Webhook attempts this instance is making now',
      'webhookAttempts',
    );
    this.gauge(
      'webhook_deliveries_queued',
      'Webhook deliveries this process holds until due (memory driver)',
      'webhooksQueued',
    );
  }

  /**
   * Says where a gauge's count is read, when scraped: the service that keeps the count owns it,
   * and a gauge moved up and down at each change could drift (a job started on one instance may
   * finish on another).
   */
  readAtScrape(count: ScrapedCount, read: () => number): void {
    this.scraped[count] = read;
  }

  /**
   * A job created, and the finished jobs its creation forgot early (MAX_JOBS_PER_CLIENT,
   * MAX_RETAINED_JOBS).
   */
  jobCreated(evicted: Evicted): void {
    this.jobsCreated.inc();
    if (evicted.perClient > 0) this.evictedBy.jobs_per_client.inc(evicted.perClient);
    if (evicted.retained > 0) this.evictedBy.retained_jobs.inc(evicted.retained);
  }

  /** Every change a store accepted: a final one counts the job as finished. */
  jobChanged(job: Job): void {
    if (job.status === 'pending' || job.status === 'running') return;
    this.finishedByStatus[job.status].inc();
  }

  streamResumed(answer: 'replay' | 'snapshot'): void {
    this.resumedBy[answer].inc();
  }

  /** Pending webhook deliveries that no automatic attempt will be made of any more. */
  webhookGivenUp(reason: WebhookGiveUp, count = 1): void {
    this.givenUpFor[reason].inc(count);
  }

  waitHeld(): void {
    this.waitsHeld.inc();
  }

  /**
   * A status read answered now. Only an answer given at once says something about the poll hint:
   * a held one came when the job changed, whenever it was asked.
   */
  polled(kind: PollKind, jobs: readonly Job[], marginMs: number, atOnce: boolean): void {
    this.pollsOf[kind].inc();
    if (!atOnce) return;
    const now = Date.now();
    for (const job of jobs) {
      const lateness = pollHintLateness(job, now, marginMs);
      if (lateness === 'early') this.hintEarly.inc();
      else if (lateness !== undefined) this.hintLateness.observe(lateness.lateMs / 1000);
    }
  }

  /** The Prometheus text of every metric. */
  async scrape(): Promise<string> {
    // Started by the first scrape: the event-loop monitor and GC observer it sets up cannot be
    // stopped, and an app nobody scrapes (most test apps) should not run them.
    if (!this.defaultsStarted) {
      this.defaultsStarted = true;
      collectDefaultMetrics({ register: this.registry });
      for (const name of COSTLY_DEFAULTS) this.registry.removeSingleMetric(name);
    }
    return this.registry.metrics();
  }

  private counter(name: string, help: string): Counter {
    return new Counter({ name: `heygen_${name}`, help, registers: [this.registry] });
  }

  /** A counter with one label, and its child for each of `values`, by value. */
  private labelledCounter<V extends string>(
    name: string,
    help: string,
    label: string,
    values: readonly V[],
  ): Record<V, Counter.Internal> {
    const counter = new Counter({
      name: `heygen_${name}`,
      help,
      labelNames: [label],
      registers: [this.registry],
    });
    const children = {} as Record<V, Counter.Internal>;
    for (const value of values) {
      children[value] = counter.labels(value);
      // Each series starts at 0, so that a rate over its first change is right.
      children[value].inc(0);
    }
    return children;
  }

  private tallied(name: string, help: string, field: keyof StreamTally): void {
    const streams = this.streams;
    let counted = 0;
    new Counter({
      name: `heygen_${name}`,
      help,
      registers: [this.registry],
      collect() {
        this.inc(streams[field] - counted);
        counted = streams[field];
      },
    });
  }

  private gauge(name: string, help: string, count: ScrapedCount): void {
    const scraped = this.scraped;
    new Gauge({
      name: `heygen_${name}`,
      help,
      registers: [this.registry],
      collect() {
        this.set(scraped[count]());
      },
    });
  }
}
