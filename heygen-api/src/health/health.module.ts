import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { StatusStreamModule } from '../sse/status-stream.module.js';
import { HealthController } from './health.controller.js';
import { ServingHealthIndicator } from './serving.health.js';

/** GET /health; the stream module provides the open-stream count it reports (OPEN_STREAMS). */
@Module({
  imports: [TerminusModule, StatusStreamModule],
  controllers: [HealthController],
  providers: [ServingHealthIndicator],
})
export class HealthModule {}
