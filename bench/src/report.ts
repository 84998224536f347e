import { type Distribution } from './stats.js';
import { type SuiteResult } from './suite.js';

const ms = (value: number): string => (Number.isNaN(value) ? '–' : `${value}`);
const dist = (d: Distribution, keys: (keyof Distribution)[]): string[] =>
  keys.map((key) => ms(d[key]));

function table(head: string[], rows: string[][]): string {
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

/** The results as Markdown tables: printed by the bench, pasted into docs/benchmarks.md. */
export function formatReport(result: SuiteResult): string {
  const parts: string[] = [
    `Node ${result.node}, ${result.cpus} CPUs, load average ${result.loadAverage} at start, ${result.date}`,
  ];
  if (result.delayCost.length) {
    parts.push(
      '### 1. Delay and cost per job',
      table(
        [
          'mode',
          'jobs',
          'delay p50 ms',
          'p95 ms',
          'p99 ms',
          'max ms',
          'status requests / job',
          'bytes / job',
          'missed',
        ],
        result.delayCost.map((r) => [
          r.mode,
          `${r.jobs}`,
          ...dist(r.delayMs, ['p50', 'p95', 'p99', 'max']),
          `${r.statusRequestsPerJob}`,
          `${r.bytesPerJob}`,
          `${r.missed}`,
        ]),
      ),
    );
  }
  if (result.fanOut.length) {
    parts.push(
      '### 2. Fan-out',
      table(
        [
          'streams',
          'adapter',
          'events',
          'delivery p50 ms',
          'p99 ms',
          'max ms',
          'final event p50 / p99 ms',
          'lost',
          'RSS before / idle / end MiB',
          'RSS per idle stream KiB',
          'open / create s',
        ],
        result.fanOut.map((r) => [
          `${r.streams}`,
          r.adapter,
          `${r.events}`,
          ...dist(r.deliveryMs, ['p50', 'p99', 'max']),
          `${ms(r.finalDeliveryMs.p50)} / ${ms(r.finalDeliveryMs.p99)}`,
          `${r.lost}`,
          `${r.rssMiB.before} / ${r.rssMiB.idle} / ${r.rssMiB.end}`,
          `${r.rssPerIdleStreamKiB}`,
          `${(r.openMs / 1000).toFixed(1)} / ${(r.createMs / 1000).toFixed(1)}`,
        ]),
      ),
    );
  }
  if (result.throughput.length) {
    parts.push(
      '### 3. HTTP throughput (autocannon)',
      table(
        [
          'round',
          'route',
          'server',
          'connections',
          'seconds',
          'requests/s',
          'vs node:http',
          'latency p50 ms',
          'p99 ms',
          'max ms',
          'errors',
          'non-2xx',
        ],
        result.throughput.map((r) => [
          `${r.round}`,
          r.route,
          r.server,
          `${r.connections}`,
          `${r.durationS}`,
          `${r.requestsPerS}`,
          r.ratioToNode === undefined ? '' : `${Math.round(r.ratioToNode * 100)} %`,
          `${r.latencyMs.p50}`,
          `${r.latencyMs.p99}`,
          `${r.latencyMs.max}`,
          `${r.errors}`,
          `${r.non2xx}`,
        ]),
      ),
    );
  }
  if (result.bundle) {
    const b = result.bundle;
    parts.push(
      '### 4. Library bundle',
      table(
        ['file', 'raw B', 'min B', 'min+gzip B', 'budget B'],
        [[b.file, `${b.rawBytes}`, `${b.minBytes}`, `${b.minGzipBytes}`, `${b.budgetBytes}`]],
      ),
    );
  }
  if (result.idleCost) {
    const r = result.idleCost;
    parts.push(
      '### 5. Idle cost and floods',
      table(
        [
          'running jobs',
          'CPU idle server %',
          'CPU with the jobs %',
          'RSS idle / floods / after MiB',
          'RSS after vs idle %',
          'floods: jobs created / pipelined streams / unread streams',
          'streams left',
        ],
        [
          [
            `${r.jobs}`,
            `${r.cpuPercent.idle}`,
            `${r.cpuPercent.running}`,
            `${r.rssMiB.idle} / ${r.rssMiB.floods} / ${r.rssMiB.after}`,
            `${r.rssGrowthPercent}`,
            `${r.floods.jobsCreated} / ${r.floods.pipelinedStreams} / ${r.floods.stuckStreams}`,
            `${r.streamsLeft}`,
          ],
        ],
      ),
    );
  }
  return parts.join('\n\n');
}
