import { type InstanceInfo, type KillEvent } from './deployment.js';
import { SCHEDULE } from './schedule.js';
import { type WebhookReceipt, type WebhookTotals } from './webhook-receiver.js';

/** Statuses of a job that one instance carried over one transport, in a row. */
export interface Carrier {
  /** `api-1`…: the instance whose connection carried them. */
  instance: string;
  /** `api` (the creation's answer), `sse` (the stream) or `poll`. */
  via: string;
  /** The statuses delivered, each once (progress repeats `running`). */
  statuses: string[];
}

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
  /** The instance that answered its creation. */
  createdOn?: string;
  /** The instance whose connection delivered its final status. */
  seenOn?: string;
  /** Which instances carried its statuses, in order (see {@link Carrier}). */
  servedBy?: Carrier[];
  /** With --webhook: what the run's receiver got of its final event. */
  webhook?: WebhookReceipt;
}

/** With --webhook: the receiver, and every request it answered. */
export interface WebhookSummary extends WebhookTotals {
  /** The receiver's base URL; job n's webhook is `<url>/jobs/<n>`. */
  url: string;
}

/** One instance of the run and what it served through the proxy. */
export interface InstanceSummary extends InstanceInfo {
  requests: number;
  /** Event streams among those requests. */
  streams: number;
}

/** The kill of the disruption with several instances, and where the client's stream went. */
export interface KillReport extends KillEvent {
  /** The instance of the first stream the library opened after the kill. */
  streamMovedTo?: string;
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
  /**
   * `delayMs`: the final status seen by the client − `finishedAt`; `webhookDelayMs` (with
   * --webhook): the accepted webhook's arrival − `finishedAt`, retries included.
   */
  jobs: Array<JobOutcome & { delayMs?: number; webhookDelayMs?: number }>;
  totals: {
    sse: ChannelTotals;
    poll: ChannelTotals;
    api: ChannelTotals;
    fallbacks: number;
    upgrades: number;
  };
  /** The heygen-api instances, `api-1`…`api-n` (one unless --instances), and what each served. */
  instances: InstanceSummary[];
  /**
   * Whether the run cut the network, whether the library was allowed to fall back to polling
   * (`--no-fallback`, and never in POLL mode), and what it did: fell back, and had a stream open
   * again after the network healed (back from polling, or reconnected on its own), and how many
   * jobs were still unfinished then: with none, there was nothing left to stream. With several
   * instances the disruption is a kill (`kill`); a stream counts as back once one opens after it.
   */
  disruption: {
    dropped: boolean;
    fallback: boolean;
    fellBack: boolean;
    returnedToSse: boolean;
    unfinishedAtHeal: number;
    /**
     * How long after the heal the last job settled. Within SCHEDULE.upgradeTimeoutMs, a stream
     * not seen again was not due yet: after a cut the library's attempts back off (about 0.5, 1,
     * 2, 4 s), and once nothing is watched it opens none.
     */
    settledAfterHealMs?: number;
    kill?: KillReport;
  };
  /** With --webhook: what the receiver got over the run. */
  webhooks?: WebhookSummary;
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
    const received = job.webhook?.receivedAt;
    const webhookDelayMs =
      received !== undefined && job.finishedAt !== undefined
        ? received - job.finishedAt
        : undefined;
    if (input.webhooks) problems.push(...webhookProblems(job));
    return {
      ...job,
      ...(delayMs !== undefined && { delayMs }),
      ...(webhookDelayMs !== undefined && { webhookDelayMs }),
    };
  });
  const failed = input.webhooks?.failedVerification ?? 0;
  if (failed > 0) problems.push(`${plural(failed, 'webhook request')} failed verification`);
  // A server that cannot start fails the run (`--help`), the restart at the heal too (review of
  // 2026-12-01: it stayed down, and the run still exited 0).
  const restartError = input.disruption.kill?.restartError;
  if (restartError !== undefined)
    problems.push(`the killed instance's restart failed (${restartError})`);
  return { ...input, jobs, ok: problems.length === 0, problems };
}

/** With --webhook, a job's final state must arrive by webhook too, and say what the client saw. */
function webhookProblems({ id, status, webhook }: JobOutcome): string[] {
  if (webhook?.receivedAt === undefined) return [`job ${id}: its final webhook did not arrive`];
  if (status !== undefined && webhook.status !== status) {
    return [`job ${id}: its webhook said ${webhook.status}, the client saw ${status}`];
  }
  return [];
}

const plural = (count: number, word: string, words = `${word}s`): string =>
  `${count} ${count === 1 ? word : words}`;
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
  const { dropped, fallback, fellBack, returnedToSse, unfinishedAtHeal, settledAfterHealMs, kill } =
    disruption;
  const happened = (yes: boolean): string => (yes ? 'happened' : 'did NOT happen');
  if (!dropped) return 'Network disruption: none (--no-drop)';
  const what = kill
    ? `Network disruption: ${kill.instance} killed (SIGKILL) after job ${kill.afterJob}, ${
        kill.reason === 'stream'
          ? "holding the client's stream"
          : "which served the client's last request (no stream was open)"
      }`
    : undefined;
  if (mode === 'poll') {
    return what
      ? `${what}; POLL has no stream to lose and polls on through the other instances`
      : 'Network disruption: event streams cut; POLL does not use them, so there is no fallback to expect';
  }
  // An idle library keeps no connection: with every job done before the heal, or before its next
  // stream attempt was due, nothing reconnects.
  const back = returnedToSse
    ? undefined
    : unfinishedAtHeal === 0
      ? 'not seen: every job had finished before the network healed (a longer --job-time shows it)'
      : settledAfterHealMs !== undefined && settledAfterHealMs < SCHEDULE.upgradeTimeoutMs
        ? `not seen: the last job finished ${(settledAfterHealMs / 1000).toFixed(1)} s after the network healed, before the library's next stream attempt was due (attempts back off after a cut: about 0.5, 1, 2, 4 s; a longer --job-time shows it)`
        : undefined;
  const moved = kill?.streamMovedTo ? ` on ${kill.streamMovedTo}` : '';
  if (!fallback) {
    return `${what ? `${what}; fallback off (--no-fallback)` : 'Network disruption: fallback off (--no-fallback)'}; the stream ${back ? `reconnecting ${back}` : returnedToSse ? `reconnected and resumed${moved}` : 'did NOT reconnect'}`;
  }
  return `${what ? `${what}; fallback` : 'Network disruption: fallback'} to POLL ${happened(fellBack)}, return to SSE ${back ?? `${happened(returnedToSse)}${returnedToSse ? moved : ''}`} (${totals.fallbacks} fallbacks, ${totals.upgrades} upgrades)`;
}

/** What became of the killed instance, in one line; undefined without a kill. */
export function describeKill({ disruption: { kill } }: RunReport): string | undefined {
  if (!kill) return undefined;
  const running =
    kill.runningJobs === undefined ? '' : `, running ${plural(kill.runningJobs, 'job')}`;
  const after = kill.streamMovedTo
    ? `the next stream went to ${kill.streamMovedTo}`
    : 'no stream was opened after it';
  const fate =
    kill.restartedAt !== undefined
      ? `restarted when the network healed, ${((kill.restartedAt - kill.at) / 1000).toFixed(1)} s after the kill (pid ${kill.restartedPid})`
      : kill.restartError !== undefined
        ? `it stayed down: the restart failed (${kill.restartError})`
        : 'it stayed down';
  return `Killed instance: ${kill.instance} (port ${kill.port}, pid ${kill.pid}${running}); ${after}; ${fate}`;
}

/** A job's carriers as one line: `api-1 api (pending), api-2 sse (running, completed)`. */
const carriers = (job: JobOutcome): string =>
  (job.servedBy ?? [])
    .map(({ instance, via, statuses }) => `${instance} ${via} (${statuses.join(', ')})`)
    .join(', ') || '-';

/** With --webhook, what the receiver answered over the run, in one line. */
export function describeWebhooks({ webhooks }: RunReport): string | undefined {
  if (!webhooks) return undefined;
  const { url, deliveries, verified, failedVerification, retries } = webhooks;
  return `Webhooks: ${plural(deliveries, 'delivery', 'deliveries')} to ${url}, ${verified} verified, ${failedVerification} failed verification, ${plural(retries, 'retry', 'retries')}`;
}

/** The report as text for a person; with several instances, which one served what. */
export function formatReport(report: RunReport): string {
  const several = report.instances.length > 1;
  const hooks = report.webhooks !== undefined;
  const jobRows = [
    [
      'job',
      'created',
      'finished (server)',
      'seen (client)',
      'delay',
      'seen by',
      ...(hooks ? ['webhook', 'attempts'] : []),
      'status',
      ...(several ? ['seen on'] : []),
    ],
    ...report.jobs.map((job) => [
      String(job.id),
      time(job.createdAt),
      time(job.finishedAt),
      time(job.seenAt),
      job.delayMs === undefined ? '-' : `${job.delayMs} ms`,
      job.seenBy ?? '-',
      ...(hooks
        ? [
            job.webhookDelayMs === undefined ? '-' : `${job.webhookDelayMs} ms`,
            String(job.webhook?.attempts ?? 0),
          ]
        : []),
      job.error ?? job.status ?? '-',
      ...(several ? [job.seenOn ?? '-'] : []),
    ]),
  ];
  const { sse, poll, api } = report.totals;
  const costRows = [
    ['transport', 'requests', 'bytes', 'streams'],
    ['sse', String(sse.requests), kib(sse.bytes), String(sse.streams)],
    ['poll', String(poll.requests), kib(poll.bytes), '-'],
    ['api (create)', String(api.requests), kib(api.bytes), '-'],
  ];
  const kill = report.disruption.kill;
  const instanceRows = [
    ['instance', 'port', 'pid', 'requests', 'streams', ''],
    ...report.instances.map((instance) => [
      instance.name,
      String(instance.port),
      instance.pid === undefined ? '-' : String(instance.pid),
      String(instance.requests),
      String(instance.streams),
      kill?.instance !== instance.name
        ? ''
        : `killed after job ${kill.afterJob} (pid ${kill.pid})${
            kill.restartedAt !== undefined ? ', restarted at the heal' : ', stayed down'
          }`,
    ]),
  ];
  const servedRows = report.jobs.map(
    (job) => `  job ${job.id}: created on ${job.createdOn ?? '-'}; statuses from ${carriers(job)}`,
  );
  const killLine = describeKill(report);
  const webhookLine = describeWebhooks(report);
  const lines = [
    `Report: ${report.jobs.length} jobs, JOB_TIME ${report.jobTime} ms, mode ${report.mode}${
      several ? `, ${report.instances.length} instances on Redis` : ''
    }`,
    '',
    table(jobRows),
    '',
    table(costRows),
    ...(several ? ['', table(instanceRows), '', 'Which instance served what:', ...servedRows] : []),
    '',
    describeDisruption(report),
    ...(killLine ? [killLine] : []),
    ...(webhookLine ? [webhookLine] : []),
    report.ok
      ? `Result: every job completed and was seen once${hooks ? '; every final webhook arrived, verified' : ''}.`
      : `Result: FAILED\n  - ${report.problems.join('\n  - ')}`,
  ];
  return lines.join('\n');
}
