import { Module, type DynamicModule } from '@nestjs/common';
import { InMemoryJobEvents } from '../events/in-memory-job-events.js';
import { JOB_EVENTS } from '../events/job-events.js';
import { StatusStreamService } from '../sse/status-stream.service.js';
import { InMemoryJobStore } from '../store/in-memory-job-store.js';
import { JOB_STORE } from '../store/job-store.js';
import { JOB_RUNNER } from './job-runner.js';
import { JobsController } from './jobs.controller.js';
import { JobsService } from './jobs.service.js';
import { JobIdsPipe } from './pipes/job-ids.pipe.js';
import { SimulatedJobRunner } from './simulated-job-runner.js';

/** Where jobs, their events and their work live. `memory` is one process; a Redis driver comes later. */
export type JobsDriver = 'memory';

@Module({})
export class JobsModule {
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
      controllers: [JobsController],
      providers: [...drivers[driver], JobsService, StatusStreamService, JobIdsPipe],
      exports: [JobsService, StatusStreamService, JOB_EVENTS, JOB_RUNNER],
    };
  }
}
