import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { OPEN_STREAMS, type OpenStreams } from '../sse/open-streams.js';

/** Up while the server serves; down from the moment it starts shutting down, so traffic moves away. */
@Injectable()
export class ServingHealthIndicator implements OnModuleDestroy {
  private stopping = false;

  constructor(
    @Inject(HealthIndicatorService) private readonly indicator: HealthIndicatorService,
    @Inject(OPEN_STREAMS) private readonly streams: OpenStreams,
  ) {}

  /** The first round of shutdown hooks: before the slow ones, so a balancer learns at once. */
  onModuleDestroy(): void {
    this.stopping = true;
  }

  check(): HealthIndicatorResult<'jobs'> {
    const session = this.indicator.check('jobs');
    const data = { openStreams: this.streams.openStreams };
    return this.stopping ? session.down({ ...data, reason: 'shutting down' }) : session.up(data);
  }
}
