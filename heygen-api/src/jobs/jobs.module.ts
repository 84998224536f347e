import { Module, type DynamicModule } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { TerminusModule } from '@nestjs/terminus';
import { JobChanges } from '../changes/job-changes.js';
import { AppConfig, parseJobsDriver, type JobsDriver } from '../config/app-config.js';
import { InMemoryJobWatches } from '../deadlines/in-memory-job-watches.js';
import { JobWatches } from '../deadlines/job-watches.js';
import { InMemoryJobEvents } from '../events/in-memory-job-events.js';
import { JOB_EVENTS } from '../events/job-events.js';
import { SHARED_REDIS } from '../redis/shared-redis.js';
import { JOB_RUNNER } from '../runner/job-runner.js';
import { SimulatedJobRunner } from '../runner/simulated-job-runner.js';
import { InMemoryJobStore } from '../store/in-memory-job-store.js';
import { JOB_STORE } from '../store/job-store.js';
import { WaitsModule } from '../waits/waits.module.js';
import { WebhooksModule } from '../webhooks/webhooks.module.js';
import { DeliveriesController } from './deliveries.controller.js';
import { JobsController } from './jobs.controller.js';
import { JobsService } from './jobs.service.js';

export type { JobsDriver } from '../config/app-config.js';

export interface JobsModuleOptions {
  /** @default JOBS_DRIVER from `env` (or the environment and `.env`), else `memory` */
  driver?: JobsDriver;
  /** The variables the app was configured with, when not the process environment. */
  env?: Record<string, string | undefined> | undefined;
}

type DriverParts = Pick<Required<DynamicModule>, 'providers' | 'imports' | 'exports'>;

const memoryDriver = (): DriverParts => ({
  providers: [
    { provide: JOB_STORE, useClass: InMemoryJobStore },
    { provide: JOB_EVENTS, useClass: InMemoryJobEvents },
    { provide: JOB_RUNNER, useClass: SimulatedJobRunner },
    // cancelWhenUnwatched: one process sees every watcher of its jobs (docs/design.md, "Deadlines").
    { provide: JobWatches, useClass: InMemoryJobWatches },
  ],
  imports: [],
  exports: [JobWatches],
});

/** Loaded only when chosen: the memory driver never pays for importing BullMQ and ioredis. */
async function redisDriver(): Promise<DriverParts> {
  const [
    { RedisConnections },
    health,
    { RedisJobStore },
    { RedisJobEvents },
    { BullmqJobRunner },
    { RedisJobWatches },
  ] = await Promise.all([
    import('../redis/redis-connections.js'),
    import('../redis/redis.health.js'),
    import('../store/redis-job-store.js'),
    import('../events/redis-job-events.js'),
    import('../runner/bullmq-job-runner.js'),
    import('../deadlines/redis-job-watches.js'),
  ]);
  return {
    providers: [
      {
        provide: RedisConnections,
        inject: [AppConfig],
        // Start-up waits for Redis: unreachable, it fails with one line naming REDIS_URL.
        useFactory: (config: AppConfig) => RedisConnections.connect(config),
      },
      { provide: JOB_STORE, useClass: RedisJobStore },
      { provide: JOB_EVENTS, useClass: RedisJobEvents },
      BullmqJobRunner,
      { provide: JOB_RUNNER, useExisting: BullmqJobRunner },
      { provide: health.WORKER_STATUS, useExisting: BullmqJobRunner },
      { provide: health.REDIS_HEALTH, useClass: health.RedisHealthIndicator },
      { provide: SHARED_REDIS, useExisting: RedisConnections },
      // cancelWhenUnwatched: the watches live in Redis, swept by every instance (docs/design.md).
      { provide: JobWatches, useClass: RedisJobWatches },
    ],
    imports: [TerminusModule],
    exports: [health.REDIS_HEALTH, SHARED_REDIS, JobWatches],
  };
}

@Module({})
export class JobsModule {
  /**
   * The one place a driver becomes the store, the event fan-out and the runner. Global, like
   * BullModule.forRoot: features such as the stream inject its public surface (JobsService,
   * JOB_EVENTS) without importing it again, since a second forRoot would be a second set of jobs.
   * Asynchronous so that JOBS_DRIVER may come from `.env`, which ConfigModule loads first.
   */
  static async forRoot({ driver, env }: JobsModuleOptions = {}): Promise<DynamicModule> {
    if (driver === undefined && env === undefined) await ConfigModule.envVariablesLoaded;
    // A bad value is reported by the configuration, with every other problem, in one line.
    const chosen = driver ?? parseJobsDriver(env ?? process.env);
    const { providers, imports, exports } =
      chosen === 'redis' ? await redisDriver() : memoryDriver();
    return {
      module: JobsModule,
      global: true,
      imports: [...imports, WaitsModule, await WebhooksModule.forRoot(chosen)],
      controllers: [JobsController, DeliveriesController],
      providers: [...providers, JobChanges, JobsService],
      exports: [JobsService, JOB_EVENTS, ...exports],
    };
  }
}
