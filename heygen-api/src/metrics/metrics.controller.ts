import { Controller, Get, Header, Inject } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { prometheusContentType } from 'prom-client';
import { Public } from '../auth/public.decorator.js';
import { AppMetrics } from './app-metrics.js';

/**
 * GET /metrics in Prometheus text format (docs/metrics.md): public like /health, since the
 * scraper is infrastructure and no count names a client, and left out of the OpenAPI document,
 * which describes the JSON API.
 */
@ApiExcludeController()
@Public()
@Controller('metrics')
export class MetricsController {
  constructor(@Inject(AppMetrics) private readonly metrics: AppMetrics) {}

  @Get()
  @Header('Content-Type', prometheusContentType)
  @Header('Cache-Control', 'no-store')
  scrape(): Promise<string> {
    return this.metrics.scrape();
  }
}
