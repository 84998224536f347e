import { Global, Module, type DynamicModule } from '@nestjs/common';
import { AppMetrics } from './app-metrics.js';
import { MetricsController } from './metrics.controller.js';

/**
 * The app's metrics: AppMetrics for every service that records a fact (global, so the stream, the
 * waits, the jobs and the runner inject it without importing this module), and `GET /metrics`
 * unless METRICS=off, when the path answers 404 like any unknown one and nothing reads the counts.
 */
@Global()
@Module({})
export class MetricsModule {
  static forRoot({ route }: { route: boolean }): DynamicModule {
    return {
      module: MetricsModule,
      controllers: route ? [MetricsController] : [],
      providers: [AppMetrics],
      exports: [AppMetrics],
    };
  }
}
