import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { ApiKeyGuard } from './auth/api-key.guard.js';
import { ApiKeys } from './auth/api-keys.js';
import {
  parseDashboard,
  parseMetrics,
  parseRateLimits,
  rateLimitsOn,
} from './config/app-config.js';
import { AppConfigModule, type ConfigOptions } from './config/config.module.js';
import { DashboardModule } from './dashboard/dashboard.module.js';
import { ApiExceptionFilter } from './http/api-exception.filter.js';
import { HealthModule } from './health/health.module.js';
import { JsonBodyParser } from './http/json-body-parser.js';
import { JobsModule } from './jobs/jobs.module.js';
import { RateLimitGuard } from './rate-limits/rate-limit.guard.js';
import { RateLimitsModule } from './rate-limits/rate-limits.module.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { LoggingModule } from './logging/logging.module.js';
import { StatusStreamModule } from './sse/status-stream.module.js';

@Module({})
export class AppModule {
  static forRoot(options: ConfigOptions = {}): DynamicModule {
    // RATE_LIMIT_* all unset (the default): neither the module nor the guard, nothing per request.
    const rateLimited = rateLimitsOn(parseRateLimits(options.env ?? process.env));
    return {
      module: AppModule,
      imports: [
        AppConfigModule.forRoot(options),
        LoggingModule,
        JobsModule.forRoot({ env: options.env }),
        StatusStreamModule,
        HealthModule,
        // DASHBOARD=off: no route at `GET /`, which then answers 404 like any unknown path.
        ...(parseDashboard(options.env ?? process.env) ? [DashboardModule] : []),
        MetricsModule.forRoot({ route: parseMetrics(options.env ?? process.env) }),
        ...(rateLimited ? [RateLimitsModule.forRoot()] : []),
      ],
      providers: [
        ApiKeys,
        // Global guards run in this order: the key is checked, then the rate limits (which count
        // per key), before the body is read.
        { provide: APP_GUARD, useClass: ApiKeyGuard },
        ...(rateLimited ? [{ provide: APP_GUARD, useClass: RateLimitGuard }] : []),
        { provide: APP_GUARD, useClass: JsonBodyParser },
        { provide: APP_FILTER, useClass: ApiExceptionFilter },
      ],
    };
  }
}
