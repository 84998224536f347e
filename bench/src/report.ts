import { type Distribution } from './stats.js';
import { type SoakVerdict } from './scenarios/soak.js';
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
  if (result.fanOut.length) parts.push('### 2. Fan-out', fanOutTable(result.fanOut));
  if (result.throughput.length) {
    parts.push('### 3. HTTP throughput (autocannon)', throughputTable(result.throughput));
  }
  if (result.bundle) {
    parts.push(
      '### 4. Library bundle (size-limit, esbuild, min+gzip)',
      table(
        ['entry', 'bytes', 'budget bytes'],
        result.bundle.entries.map((e) => [e.name, `${e.bytes}`, `${e.limitBytes ?? ''}`]),
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
  if (result.retainedMemory) {
    const r = result.retainedMemory;
    const f = r.flood;
    parts.push(
      '### 6. Memory per retained job',
      table(
        ['finished jobs kept', 'RSS idle / end / settled MiB', 'bytes per job end / settled'],
        [
          [
            `${r.jobs}`,
            `${r.rssMiB.idle} / ${r.rssMiB.end} / ${r.rssMiB.settled}`,
            `${r.bytesPerJob.end} / ${r.bytesPerJob.settled}`,
          ],
        ],
      ),
      table(
        [
          'flood s',
          'MAX_RETAINED_JOBS',
          'created (per s)',
          'refused',
          'RSS idle / peak / after retention MiB',
          'bound MiB',
          'back within 25 % of idle after s',
        ],
        [
          [
            `${f.seconds}`,
            `${f.cap}`,
            `${f.created} (${f.rate})`,
            `${f.refused}`,
            `${f.rssMiB.idle} / ${f.rssMiB.peak} / ${f.rssMiB.afterRetention}`,
            `${f.boundMiB}`,
            `${f.backNearIdleS ?? 'no'}`,
          ],
        ],
      ),
    );
  }
  if (result.redisScale) {
    const r = result.redisScale;
    const f = r.failover;
    parts.push(
      '### 7. A deployment on Redis (two instances)',
      fanOutTable([r.fanOut]),
      throughputTable(r.throughput),
      `POST /create on redis: ${Math.round(r.createRedisToMemory * 100)} % of the memory driver's rate, ` +
        `${Math.round(r.createHttpOnlyToMemory * 100)} % on an instance without a worker; ` +
        `${r.commandsPerJob} Redis commands per job (create → completed, no stream).`,
      table(
        [
          'streams',
          'on the killed instance',
          'reconnected p50 / p99 / max ms',
          'next job event p50 / p99 / max ms',
          'lost',
          'jobs finished',
        ],
        [
          [
            `${f.streams}`,
            `${f.affected}`,
            dist(f.reconnectMs, ['p50', 'p99', 'max']).join(' / '),
            dist(f.deliveringMs, ['p50', 'p99', 'max']).join(' / '),
            `${f.lost}`,
            `${f.finished}`,
          ],
        ],
      ),
    );
  }
  if (result.tabHandover) {
    const r = result.tabHandover;
    parts.push(
      '### 8. Tab hand-over',
      table(
        [
          'pages',
          'hand-overs',
          'next update after close p50 ms',
          'p95 ms',
          'p99 ms',
          'max ms',
          'remaining pages measured',
          'no update in 10 s',
          'final statuses expected / lost / duplicated',
          'page errors',
        ],
        [
          [
            `${r.pages}`,
            `${r.handovers}`,
            ...dist(r.nextUpdateMs, ['p50', 'p95', 'p99', 'max']),
            `${r.nextUpdateMs.count}`,
            `${r.noNextUpdate}`,
            `${r.finals.expected} / ${r.finals.lost} / ${r.finals.duplicated}`,
            `${r.pageErrors}`,
          ],
        ],
      ),
    );
  }
  if (result.soak) parts.push('### 9. Soak', ...soakTables(result.soak));
  if (result.slowloris) parts.push('### 10. Slowloris', ...slowlorisTables(result.slowloris));
  if (result.webhooks) parts.push('### 11. Webhooks', ...webhooksTables(result.webhooks));
  return parts.join('\n\n');
}

function webhooksTables(r: NonNullable<SuiteResult['webhooks']>): string[] {
  return [
    table(
      ['jobs', 'delivery − finishedAt p50 / p99 / max ms', 'lost', 'duplicates', 'deliveries/s'],
      [
        [
          `${r.jobs}`,
          dist(r.delayMs, ['p50', 'p99', 'max']).join(' / '),
          `${r.lost}`,
          `${r.duplicates}`,
          `${r.deliveriesPerS}`,
        ],
      ],
    ),
    table(
      ['round', 'jobs of', 'POST /create', 'requests/s', 'p99 ms', 'non-2xx', 'errors'],
      r.createRates.map((rate) => [
        `${rate.round}`,
        `${rate.jobTimeMs} ms`,
        rate.webhooks ? 'with a webhook' : 'without',
        `${rate.requestsPerS}`,
        `${rate.p99Ms}`,
        `${rate.non2xx}`,
        `${rate.errors}`,
      ]),
    ),
    `Create rate with webhooks over without: ${r.createRatio} with ${r.jobTimeMs} ms jobs ` +
      `(delivered during the run), ${r.createPathRatio} with jobs that outlast it (the create ` +
      `path alone; target ≥ 0.8).`,
  ];
}

function soakTables(r: NonNullable<SuiteResult['soak']>): string[] {
  const v = r.verdicts;
  const na = (value: number | null): string => (value === null ? 'n/a' : `${value}`);
  const verdict = (ok: boolean | null): string => (ok === null ? 'n/a' : ok ? 'met' : 'missed');
  const l = r.load;
  const redis = r.driver === 'redis';
  const within = (name: string, unit: string, x: SoakVerdict | undefined): string[][] =>
    x
      ? [
          [
            `${name} within 10 %`,
            `${x.reference}${unit}`,
            `${x.end}${unit}`,
            `${x.changePercent} %`,
            verdict(x.ok),
          ],
        ]
      : [];
  return [
    table(
      [
        's',
        'RSS MiB',
        'heap used MiB',
        'event-loop p99 ms',
        'open fds',
        ...(redis ? ['Redis used MiB', 'Redis keys'] : []),
      ],
      r.samples.map((s) => [
        `${s.atS}`,
        `${s.rssMiB}`,
        na(s.heapUsedMiB),
        na(s.loopP99Ms),
        `${s.fds}`,
        ...(redis ? [na(s.redisUsedMiB), na(s.redisKeys)] : []),
      ]),
    ),
    table(
      ['bound', `at ${v.referenceAtS} s`, 'end', 'change', ''],
      [
        ...within('RSS', ' MiB', v.rss),
        ...within('open fds', '', v.fds),
        ...within('Redis used memory', ' MiB', v.redisMemory),
        ...within('Redis keys', '', v.redisKeys),
        [
          'event-loop delay p99 ≤ 20 ms',
          '',
          `max ${na(v.loopP99.maxMs)} ms`,
          '',
          verdict(v.loopP99.ok),
        ],
      ],
    ),
    `Driver: ${r.driver}. Heap and event-loop delay: ${r.metrics}. Load: ${l.created} jobs, ${l.polls} polls, ` +
      `${l.batches} batches, ${l.heldWaits} held waits (held p50 ${ms(l.heldMs.p50)} ms), ` +
      `${l.cancelled} cancels (+${l.cancelTooLate} too late), ${l.streamsOpened} streams ` +
      `(${l.streamEvents} events, ${l.streamsCutByServer} cut by the server), slow readers ` +
      `dropped by the server: ${l.slowReaders.dropped} of ${l.slowReaders.checked} checked after ` +
      `${l.slowReaders.stallS} s stopped, ${l.failures} failed requests, unexpected ` +
      `answers: ${JSON.stringify(l.unexpected)}.`,
  ];
}

function slowlorisTables(r: NonNullable<SuiteResult['slowloris']>): string[] {
  const rounds = (name: string, c: NonNullable<SuiteResult['slowloris']>['idle']): string[] => [
    name,
    `${c.rounds - c.failed} / ${c.rounds}`,
    dist(c.createMs, ['p50', 'p99', 'max']).join(' / '),
    dist(c.connectedMs, ['p50', 'p99', 'max']).join(' / '),
    dist(c.finalLagMs, ['p50', 'p99', 'max']).join(' / '),
    dist(c.finalMs, ['p50', 'max']).join(' / '),
  ];
  const c = r.closeAfterMs;
  return [
    table(
      [
        'server',
        'rounds done',
        'create p50 / p99 / max ms',
        'stream connected p50 / p99 / max ms',
        'final event − finishedAt p50 / p99 / max ms',
        'create → final p50 / max ms',
      ],
      [rounds('idle', r.idle), rounds(`${r.connections} slowloris held`, r.attacked)],
    ),
    `${r.connections} connections (${r.attackers} process(es), open-files limit ${r.fdLimit.bench}; ` +
      `the server's ${r.fdLimit.server}) opened in ${r.openMs} ms; server fds ${r.serverFds.idle} → ` +
      `${r.serverFds.attacked}. Over ${r.attackS} s the server closed ${r.closedByServer} ` +
      `(HEADERS_TIMEOUT_MS ${r.headersTimeoutMs}), after p50 ${ms(c.p50)} / max ${ms(c.max)} ms, ` +
      `answers ${JSON.stringify(r.answers)}; ${r.opened} opened in all, ${r.connectErrors} connect errors.` +
      (r.attacked.failed ? ` Failed rounds: ${JSON.stringify(r.attacked.errors)}.` : '') +
      // The server inherits the bench's limit: below the connections, it runs out of descriptors
      // long before HEADERS_TIMEOUT_MS matters.
      (r.fdLimit.server < r.connections + 100
        ? ` The server's open-files limit (${r.fdLimit.server}) is below the connections held: ` +
          'run through bench/run.sh (npm run bench), which raises it, to measure HEADERS_TIMEOUT_MS.'
        : ''),
  ];
}

function fanOutTable(results: SuiteResult['fanOut']): string {
  return table(
    [
      'streams',
      'adapter',
      'instances',
      'events',
      'delivery p50 ms',
      'p99 ms',
      'max ms',
      'final event p50 / p99 ms',
      'finished late p50 / p99 ms',
      'lost',
      'RSS before / idle / end MiB',
      'RSS per idle stream KiB',
      'open / create s',
      '/metrics scrape p50 / p99 ms (server: mean ms, % ≤ 5 ms)',
    ],
    results.map((r) => [
      `${r.streams}`,
      r.adapter,
      `${r.instances}`,
      `${r.events}`,
      ...dist(r.deliveryMs, ['p50', 'p99', 'max']),
      `${ms(r.finalDeliveryMs.p50)} / ${ms(r.finalDeliveryMs.p99)}`,
      `${ms(r.finishedLateMs.p50)} / ${ms(r.finishedLateMs.p99)}`,
      `${r.lost}`,
      `${r.rssMiB.before} / ${r.rssMiB.idle} / ${r.rssMiB.end}`,
      `${r.rssPerIdleStreamKiB}`,
      `${(r.openMs / 1000).toFixed(1)} / ${(r.createMs / 1000).toFixed(1)}`,
      r.metricsScrapeMs
        ? `${dist(r.metricsScrapeMs, ['p50', 'p99']).join(' / ')}` +
          (r.metricsScrapeServer
            ? ` (${r.metricsScrapeServer.meanMs}, ${r.metricsScrapeServer.within5msPercent} %)`
            : '')
        : '–',
    ]),
  );
}

function throughputTable(results: SuiteResult['throughput']): string {
  return table(
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
    results.map((r) => [
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
  );
}
