import { Controller, Get, Inject, Optional } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, type HealthCheckResult } from '@nestjs/terminus';
import { Public } from '../auth/public.decorator.js';
import { REDIS_HEALTH, type RedisHealthIndicator } from '../redis/redis.health.js';
import { ServingHealthIndicator } from './serving.health.js';

/** Liveness and readiness for orchestrators and the Docker HEALTHCHECK. */
@ApiTags('health')
@Public()
@Controller('health')
export class HealthController {
  constructor(
    @Inject(HealthCheckService) private readonly health: HealthCheckService,
    @Inject(ServingHealthIndicator) private readonly serving: ServingHealthIndicator,
    // The redis driver's only: Redis answers and this instance's BullMQ worker runs.
    @Optional() @Inject(REDIS_HEALTH) private readonly redis?: RedisHealthIndicator,
  ) {}

  @Get()
  @ApiOperation({
    operationId: 'health',
    summary: 'Whether this instance can serve (503 while it stops or cannot reach Redis)',
  })
  @HealthCheck()
  check(): Promise<HealthCheckResult> {
    const redis = this.redis;
    return this.health.check([() => this.serving.check(), ...(redis ? [() => redis.check()] : [])]);
  }
}
