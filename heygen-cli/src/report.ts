/** What the run learned about one job. */
export interface JobOutcome {
  id: number;
  /** Client clock, ms since the epoch: the createJob call returned. */
  createdAt: number;
  /** Server clock (same machine), ms: the job finished (`finishedAt`). */
  finishedAt?: number;
  /** Client clock, ms: the client learned the final status. */
  seenAt?: number;
  status?: string;
  /** Which transport delivered the final status: sse or poll. */
  seenBy?: string;
  /** How many times the final status was delivered (must be 1). */
  deliveries: number;
  error?: string;
}

export interface ChannelTotals {
  requests: number;
  bytes: number;
  streams: number;
}

export interface RunReport {
  ok: boolean;
  /** Why the run failed, when it did. */
  problems: string[];
  jobTime: number;
  mode: string;
  jobs: Array<JobOutcome & { delayMs?: number }>;
  totals: {
    sse: ChannelTotals;
    poll: ChannelTotals;
    api: ChannelTotals;
    fallbacks: number;
    upgrades: number;
  };
  /**
   * Whether the run cut the network, whether the library was allowed to fall back to polling
   * (`--no-fallback`, and never in POLL mode), and what it did: fell back, and had a stream open
   * again after the network healed (back from polling, or reconnected on its own), and how many
   * jobs were still unfinished then: with none, there was nothing left to stream.
   */
  disruption: {
    dropped: boolean;
    fallback: boolean;
    fellBack: boolean;
    returnedToSse: boolean;
    unfinishedAtHeal: number;
  };
}

/** Judges the run: every job completed and was seen exactly once. */
export function buildReport(
  input: Omit<RunReport, 'ok' | 'problems' | 'jobs'> & { jobs: JobOutcome[] },
): RunReport {
  const problems: string[] = [];
  const jobs = input.jobs.map((job) => {
    if (job.error) problems.push(`job ${job.id}: ${job.error}`);
    else if (job.status !== 'completed')
      problems.push(`job ${job.id} ended ${job.status ?? 'unseen'}`);
    if (job.deliveries > 1) problems.push(`job ${job.id} was seen ${job.deliveries} times`);
    const delayMs =
      job.seenAt !== undefined && job.finishedAt !== undefined
        ? job.seenAt - job.finishedAt
        : undefined;
    return { ...job, ...(delayMs !== undefined && { delayMs }) };
  });
  return { ...input, jobs, ok: problems.length === 0, problems };
}

const time = (ms: number | undefined): string =>
  ms === undefined ? '-' : new Date(ms).toISOString().slice(11, 23);
const kib = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KiB`;

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** What the network disruption showed, in the terms of the mode the run used. */
export function describeDisruption({ mode, disruption, totals }: RunReport): string {
  const { dropped, fallback, fellBack, returnedToSse, unfinishedAtHeal } = disruption;
  const happened = (yes: boolean): string => (yes ? 'happened' : 'did NOT happen');
  if (!dropped) return 'Network disruption: none (--no-drop)';
  if (mode === 'poll') {
    return 'Network disruption: event streams cut; POLL does not use them, so there is no fallback to expect';
  }
  // An idle library keeps no connection: with every job done before the heal, nothing reconnects.
  const back =
    returnedToSse || unfinishedAtHeal > 0
      ? undefined
      : 'not seen: every job had finished before the network healed (a longer --job-time shows it)';
  if (!fallback) {
    return `Network disruption: fallback off (--no-fallback); the stream ${back ? `reconnecting ${back}` : returnedToSse ? 'reconnected and resumed' : 'did NOT reconnect'}`;
  }
  return `Network disruption: fallback to POLL ${happened(fellBack)}, return to SSE ${back ?? happened(returnedToSse)} (${totals.fallbacks} fallbacks, ${totals.upgrades} upgrades)`;
}

/** The report as text for a person. */
export function formatReport(report: RunReport): string {
  const jobRows = [
    ['job', 'created', 'finished (server)', 'seen (client)', 'delay', 'seen by', 'status'],
    ...report.jobs.map((job) => [
      String(job.id),
      time(job.createdAt),
      time(job.finishedAt),
      time(job.seenAt),
      job.delayMs === undefined ? '-' : `${job.delayMs} ms`,
      job.seenBy ?? '-',
      job.error ?? job.status ?? '-',
    ]),
  ];
  const { sse, poll, api } = report.totals;
  const costRows = [
    ['transport', 'requests', 'bytes', 'streams'],
    ['sse', String(sse.requests), kib(sse.bytes), String(sse.streams)],
    ['poll', String(poll.requests), kib(poll.bytes), '-'],
    ['api (create)', String(api.requests), kib(api.bytes), '-'],
  ];
  const lines = [
    `Report: ${report.jobs.length} jobs, JOB_TIME ${report.jobTime} ms, mode ${report.mode}`,
    '',
    table(jobRows),
    '',
    table(costRows),
    '',
    describeDisruption(report),
    report.ok
      ? 'Result: every job completed and was seen once.'
      : `Result: FAILED\n  - ${report.problems.join('\n  - ')}`,
  ];
  return lines.join('\n');
}
