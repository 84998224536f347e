import { describe, expect, it } from 'vitest';
import { formatReport } from './report.js';
import { runSuite, SCALES, type Scenario, type SuiteResult } from './suite.js';

const smoke = (...scenarios: Scenario[]): Promise<SuiteResult> =>
  runSuite({ scale: SCALES.smoke, scenarios: new Set(scenarios) });

// A smoke run: every scenario at a tiny scale, so the bench code is known to work. No timing is
// asserted here; the figures are the bench's business (npm run bench).
describe('bench, every scenario at a tiny scale', () => {
  it('should measure delay and cost (1) and fan-out on both adapters (2), losing nothing', async () => {
    const result = await smoke(1, 2);

    expect(result.delayCost.map((r) => r.missed)).toEqual(result.delayCost.map(() => 0));
    expect(result.fanOut.map((r) => [r.adapter, r.instances, r.streams, r.lost])).toEqual([
      ['fastify', 1, 20, 0],
      ['express', 1, 20, 0],
    ]);
    expect(result.fanOut[0]!.events).toBeGreaterThanOrEqual(20 * 3);
    expect(formatReport(result)).toContain('### 2. Fan-out');
  });

  it('should measure throughput of four servers (3) and the bundle (4)', async () => {
    const result = await smoke(3, 4);

    for (const r of result.throughput) expect(r).toMatchObject({ errors: 0, non2xx: 0 });
    expect(new Set(result.throughput.map((r) => r.server))).toEqual(
      new Set(['heygen-api/fastify', 'heygen-api/express', 'express', 'node:http']),
    );
    expect(result.throughput.every((r) => r.ratioToNode !== undefined)).toBe(true);
    expect(result.bundle!.entries[0]).toMatchObject({ bytes: expect.any(Number) as number });
    expect(result.bundle!.entries[0]!.limitBytes).toBeGreaterThan(0);
    expect(formatReport(result)).toContain('### 4. Library bundle');
  });

  it('should measure idle cost and floods (5) and memory per retained job (6)', async () => {
    const result = await smoke(5, 6);

    expect(result.idleCost).toMatchObject({ jobs: 200, streamsLeft: 0 });
    expect(result.idleCost!.floods.jobsCreated).toBeGreaterThan(0);
    expect(result.retainedMemory).toMatchObject({ jobs: 300, flood: { cap: 1000, refused: 0 } });
    expect(result.retainedMemory!.flood.created).toBeGreaterThan(0);
    expect(formatReport(result)).toContain('### 6. Memory per retained job');
  });

  it('should measure a deployment on Redis (7): fan-out, create rate and failover', async () => {
    const redis = (await smoke(7)).redisScale!;

    expect(redis.fanOut).toMatchObject({ instances: 2, streams: 20, lost: 0 });
    for (const r of redis.throughput) expect(r).toMatchObject({ errors: 0, non2xx: 0 });
    // A figure, not a check, beyond its sign: the idle rate taken off varies on a busy machine,
    // but never exceeds the jobs' own commands now that each phase starts on an empty Redis.
    expect(redis.commandsPerJob).toBeGreaterThan(0);
    expect(redis.failover).toMatchObject({ streams: 10, affected: 5, lost: 0, finished: 10 });
    expect(redis.failover.reconnectMs.count).toBe(5);
  });

  it('should measure the leader tab hand-over (8) in headless Chromium, losing no status', async () => {
    const result = await smoke(8);

    expect(result.tabHandover).toMatchObject({
      pages: 2,
      handovers: 3,
      noNextUpdate: 0,
      finals: { lost: 0, duplicated: 0 },
      pageErrors: 0,
    });
    expect(result.tabHandover!.nextUpdateMs.count).toBe(3);
    expect(result.tabHandover!.finals.expected).toBeGreaterThan(0);
    expect(formatReport(result)).toContain('### 8. Tab hand-over');
  });

  // Scenario 9, the soak, is left out: even its smoke scale takes a minute.
  it('should hold slowloris connections (10) while a new client creates and streams a job', async () => {
    const result = await smoke(10);

    expect(result.slowloris).toMatchObject({
      connections: 200,
      idle: { failed: 0 },
      attacked: { failed: 0 },
    });
    expect(result.slowloris!.attacked.rounds).toBeGreaterThan(0);
    // Its 2 s HEADERS_TIMEOUT_MS closes every connection about 3 s after it opened.
    expect(result.slowloris!.answers['408']).toBeGreaterThan(0);
    expect(formatReport(result)).toContain('### 10. Slowloris');
  });

  it("should deliver every job's final webhook (11) and compare the create rates", async () => {
    const result = await smoke(11);

    expect(result.webhooks).toMatchObject({ jobs: 20, lost: 0 });
    expect(result.webhooks!.delayMs.count).toBe(20);
    expect(result.webhooks!.createRates.map((r) => r.webhooks)).toEqual([false, true, false, true]);
    for (const rate of result.webhooks!.createRates) {
      expect(rate).toMatchObject({ errors: 0, non2xx: 0 });
    }
    expect(formatReport(result)).toContain('### 11. Webhooks');
  });
});
