import { Global, Module } from '@nestjs/common';
import { type Logger } from 'pino';
import { AppConfig } from '../config/app-config.js';
import { createRootLogger } from './root-logger.js';

/** The injection token of the process's pino logger (root-logger.ts). */
export const ROOT_LOGGER = Symbol('heygen.rootLogger');

/** Makes the root logger, from LOG_LEVEL and LOG_FORMAT, available to every module. */
@Global()
@Module({
  providers: [
    {
      provide: ROOT_LOGGER,
      inject: [AppConfig],
      useFactory: (config: AppConfig): Logger =>
        createRootLogger({ level: config.logLevel, format: config.logFormat }),
    },
  ],
  exports: [ROOT_LOGGER],
})
export class LoggingModule {}
