import { Module, type DynamicModule } from '@nestjs/common';
import { InMemoryJobEvents } from '../events/in-memory-job-events.js';
import { JOB_EVENTS } from '../events/job-events.js';
import { JOB_RUNNER } from '../runner/job-runner.js';
import { SimulatedJobRunner } from '../runner/simulated-job-runner.js';
import { InMemoryJobStore } from '../store/in-memory-job-store.js';
import { JOB_STORE } from '../store/job-store.js';
import { JobsController } from './jobs.controller.js';
import { JobsService } from './jobs.service.js';

/** Where jobs, their events and their work live. `memory` is one process; a Redis driver comes later. */
export type JobsDriver = 'memory';

@Module({})
export class JobsModule {
  /**
   * The one place a driver becomes the store, the event fan-out and the runner. Global, like
   * BullModule.forRoot: features such as the stream inject its public surface (JobsService,
   * JOB_EVENTS) without importing it again, since a second forRoot would be a second set of jobs.
   */
  static forRoot({ driver }: { driver: JobsDriver } = { driver: 'memory' }): DynamicModule {
    const drivers = {
      memory: [
        { provide: JOB_STORE, useClass: InMemoryJobStore },
        { provide: JOB_EVENTS, useClass: InMemoryJobEvents },
        { provide: JOB_RUNNER, useClass: SimulatedJobRunner },
      ],
    } satisfies Record<JobsDriver, unknown[]>;
    return {
      module: JobsModule,
      global: true,
      controllers: [JobsController],
      providers: [...drivers[driver], JobsService],
      exports: [JobsService, JOB_EVENTS],
    };
  }
}
