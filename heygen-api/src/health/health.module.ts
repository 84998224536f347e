import { Module, type DynamicModule } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HealthController } from './health.controller.js';
import { ServingHealthIndicator } from './serving.health.js';

@Module({})
export class HealthModule {
  /** `jobs` is the module that owns the streams the health report counts. */
  static forRoot(jobs: DynamicModule): DynamicModule {
    return {
      module: HealthModule,
      imports: [TerminusModule, jobs],
      controllers: [HealthController],
      providers: [ServingHealthIndicator],
    };
  }
}
