import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { RedisConnections, redisAddress } from './redis-connections.js';

/** Injection token of the Redis health indicator: provided by JobsModule with the redis driver only. */
export const REDIS_HEALTH = Symbol('RedisHealth');
/** Injection token of the BullMQ worker's state, for the indicator. */
export const WORKER_STATUS = Symbol('WorkerStatus');

/** What health reads of the runner. */
export interface WorkerStatus {
  readonly workerRunning: boolean;
  /** RUNNER_CONCURRENCY > 0: a stopped worker is then a fault; 0 means none was wanted. */
  readonly workerWanted: boolean;
  /** Jobs this instance is working on. */
  readonly running: number;
}

/** A probe that takes longer than this reports Redis down. */
const PROBE_TIMEOUT_MS = 1000;
/** How long the probe's key lives: it is written at every check, and needs no clean-up. */
const PROBE_TTL_MS = 60_000;

/**
 * /health's `redis` entry: Redis takes a small write in time, and this instance's worker runs. A
 * write, not a PING: a Redis whose memory is full (`noeviction`) or a read-only replica answers a
 * PING while every creation and every step of a job fails (review of 2026-12-01).
 */
@Injectable()
export class RedisHealthIndicator {
  constructor(
    @Inject(HealthIndicatorService) private readonly indicator: HealthIndicatorService,
    @Inject(RedisConnections) private readonly redis: RedisConnections,
    @Inject(WORKER_STATUS) private readonly worker: WorkerStatus,
  ) {}

  async check(): Promise<HealthIndicatorResult<'redis'>> {
    const session = this.indicator.check('redis');
    const started = performance.now();
    const data = {
      address: redisAddress(this.redis.url),
      worker: !this.worker.workerWanted ? 'off' : this.worker.workerRunning ? 'running' : 'stopped',
      runningJobs: this.worker.running,
    };
    const { status } = this.redis.command;
    // Disconnected, the probe would fail at once with ioredis's words for it (no offline queue).
    if (status !== 'ready') return session.down({ ...data, reason: `not connected (${status})` });
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.redis.command.set(
          `${this.redis.prefix}health`,
          String(Date.now()),
          'PX',
          PROBE_TTL_MS,
        ),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error('no answer to a write')), PROBE_TIMEOUT_MS);
        }),
      ]);
    } catch (error) {
      return session.down({ ...data, reason: (error as Error).message });
    } finally {
      clearTimeout(timer);
    }
    const latencyMs = Math.round((performance.now() - started) * 10) / 10;
    return this.worker.workerRunning || !this.worker.workerWanted
      ? session.up({ ...data, latencyMs })
      : session.down({ ...data, latencyMs, reason: 'the BullMQ worker is not running' });
  }
}
