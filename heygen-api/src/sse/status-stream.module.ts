import { Module } from '@nestjs/common';
import { WaitsModule } from '../waits/waits.module.js';
import { OPEN_STREAMS } from './open-streams.js';
import { StatusStreamController } from './status-stream.controller.js';
import { StatusStreamService } from './status-stream.service.js';

/**
 * The event stream and GET /status. JobsService and JOB_EVENTS come from the global
 * JobsModule.forRoot; health reads the stream count through OPEN_STREAMS, not this service.
 */
@Module({
  imports: [WaitsModule],
  controllers: [StatusStreamController],
  providers: [StatusStreamService, { provide: OPEN_STREAMS, useExisting: StatusStreamService }],
  exports: [OPEN_STREAMS],
})
export class StatusStreamModule {}
