import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { ApiKeyGuard } from './auth/api-key.guard.js';
import { AppConfigModule, type ConfigOptions } from './config/config.module.js';
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
