import { Module } from '@nestjs/common';
import { JobWaits } from './job-waits.js';

/**
 * Server-held waits of the status routes (`Prefer: wait`). JOB_EVENTS comes from the global
 * JobsModule.forRoot; the job routes and the batch import this module for JobWaits.
 */
@Module({
  providers: [JobWaits],
  exports: [JobWaits],
})
export class WaitsModule {}
