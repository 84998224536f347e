import { Global, Module, type DynamicModule } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { AppConfig, parseConfig } from './app-config.js';

export interface ConfigOptions {
  /**
   * Use exactly these variables instead of the process environment and `.env` (tests start
   * several servers with different settings in one process).
   */
  env?: Record<string, string | undefined>;
}

/** Reads the environment (and a `.env` file) once, validates it, and provides the typed AppConfig. */
@Global()
@Module({})
export class AppConfigModule {
  static forRoot({ env }: ConfigOptions = {}): DynamicModule {
    return {
      module: AppConfigModule,
      imports: [
        ConfigModule.forRoot({
          ignoreEnvFile: env !== undefined,
          ignoreEnvVars: env !== undefined,
          validate: (raw) => ({ app: parseConfig(env ?? (raw as Record<string, string>)) }),
        }),
      ],
      providers: [
        {
          provide: AppConfig,
          inject: [ConfigService],
          useFactory: (config: ConfigService) => config.getOrThrow<AppConfig>('app'),
        },
      ],
      exports: [AppConfig],
    };
  }
}
