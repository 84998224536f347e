import { describe, expect, it } from 'vitest';
import { formatReport } from './report.js';
import { runSuite, SCALES } from './suite.js';

// A smoke run: every scenario at a tiny scale, so the bench code is known to work. No timing is
// asserted here; the figures are the bench's business (npm run bench).
describe('bench', () => {
  it('should run every scenario at a tiny scale and lose nothing', async () => {
    const result = await runSuite({ scale: SCALES.smoke, scenarios: new Set([1, 2, 3, 4, 5]) });

    expect(result.delayCost.map((r) => r.missed)).toEqual(result.delayCost.map(() => 0));
    expect(result.fanOut.map((r) => [r.adapter, r.streams, r.lost])).toEqual([
      ['fastify', 20, 0],
      ['express', 20, 0],
    ]);
    expect(result.fanOut[0]!.events).toBeGreaterThanOrEqual(20 * 3);
    for (const r of result.throughput) expect(r).toMatchObject({ errors: 0, non2xx: 0 });
    expect(new Set(result.throughput.map((r) => r.server))).toEqual(
      new Set(['heygen-api/fastify', 'heygen-api/express', 'express', 'node:http']),
    );
    expect(result.throughput.every((r) => r.ratioToNode !== undefined)).toBe(true);
    expect(result.bundle!.minGzipBytes).toBeGreaterThan(0);
    expect(formatReport(result)).toContain('### 4. Library bundle');
    expect(result.idleCost).toMatchObject({ jobs: 200, streamsLeft: 0 });
    expect(result.idleCost!.floods.jobsCreated).toBeGreaterThan(0);
    expect(formatReport(result)).toContain('### 5. Idle cost and floods');
  });
});
