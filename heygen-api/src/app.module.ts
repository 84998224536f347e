import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { ApiKeyGuard } from './auth/api-key.guard.js';
import { parseDashboard } from './config/app-config.js';
import { AppConfigModule, type ConfigOptions } from './config/config.module.js';
import { DashboardModule } from './dashboard/dashboard.module.js';
import { ApiExceptionFilter } from './http/api-exception.filter.js';
import { HealthModule } from './health/health.module.js';
import { JsonBodyParser } from './http/json-body-parser.js';
import { JobsModule } from './jobs/jobs.module.js';
import { StatusStreamModule } from './sse/status-stream.module.js';

@Module({})
export class AppModule {
  static forRoot(options: ConfigOptions = {}): DynamicModule {
    return {
      module: AppModule,
      imports: [
        AppConfigModule.forRoot(options),
        JobsModule.forRoot({ env: options.env }),
        StatusStreamModule,
        HealthModule,
        // DASHBOARD=off: no route at `GET /`, which then answers 404 like any unknown path.
        ...(parseDashboard(options.env ?? process.env) ? [DashboardModule] : []),
      ],
      providers: [
        // Global guards run in this order: the key is checked before the body is read.
        { provide: APP_GUARD, useClass: ApiKeyGuard },
        { provide: APP_GUARD, useClass: JsonBodyParser },
        { provide: APP_FILTER, useClass: ApiExceptionFilter },
      ],
    };
  }
}
