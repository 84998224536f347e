import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { HttpDurations, UNMATCHED_ROUTE } from './http-metrics.js';

function newTestDurations() {
  const registry = new Registry();
  const histogram = new Histogram({
    name: 'test_http_seconds',
    help: 'test',
    labelNames: ['route', 'method', 'status_code'] as const,
    buckets: [1],
    registers: [registry],
  });
  const sut = new HttpDurations(histogram);
  const counts = async () =>
    (await histogram.get()).values
      .filter(({ metricName }) => metricName === 'test_http_seconds_count')
      .map(({ labels, value }) => ({ ...labels, value }));
  return { sut, counts };
}

describe(HttpDurations.name, () => {
  it('should label by route pattern, method and status code', async () => {
    const { sut, counts } = newTestDurations();
    sut.observe('/status/:id', 'GET', 200, 0.001);
    sut.observe('/status/:id', 'GET', 200, 0.002);
    sut.observe('/status/:id', 'GET', 404, 0.001);
    expect(await counts()).toEqual([
      { route: '/status/:id', method: 'GET', status_code: '200', value: 2 },
      { route: '/status/:id', method: 'GET', status_code: '404', value: 1 },
    ]);
  });

  it('should give unknown routes and methods one label each', async () => {
    const { sut, counts } = newTestDurations();
    sut.observe(undefined, 'GET', 404, 0.001);
    sut.observe(undefined, 'BREW', 404, 0.001);
    expect(await counts()).toEqual([
      { route: UNMATCHED_ROUTE, method: 'GET', status_code: '404', value: 1 },
      { route: UNMATCHED_ROUTE, method: 'other', status_code: '404', value: 1 },
    ]);
  });
});
