import { describe, expect, it } from 'vitest';
import {
  buildReport,
  describeDisruption,
  describeKill,
  describeWebhooks,
  formatReport,
  type JobOutcome,
  type KillReport,
  type RunReport,
} from './report.js';
import { SCHEDULE } from './schedule.js';

const T0 = Date.parse('2026-11-23T18:00:00.000Z');
const channel = { requests: 0, bytes: 0, streams: 0 };
const outcomeStub = (id: number, overrides: Partial<JobOutcome> = {}): JobOutcome => ({
  id,
  createdAt: T0,
  finishedAt: T0 + 3000,
  seenAt: T0 + 3004,
  status: 'completed',
  seenBy: 'sse',
  deliveries: 1,
  ...overrides,
});
const unseenStub = (id: number): JobOutcome => {
  const { status: _status, seenAt: _seenAt, seenBy: _seenBy, ...unseen } = outcomeStub(id);
  return unseen;
};
const inputStub = (jobs: JobOutcome[]) => ({
  jobTime: 3000,
  mode: 'auto',
  jobs,
  totals: {
    sse: { ...channel, requests: 2, bytes: 4096, streams: 2 },
    poll: channel,
    api: channel,
    fallbacks: 1,
    upgrades: 1,
  },
  instances: [
    { name: 'api-1', url: 'http://127.0.0.1:4001', port: 4001, pid: 101, requests: 7, streams: 1 },
  ],
  disruption: {
    dropped: true,
    fallback: true,
    fellBack: true,
    returnedToSse: true,
    unfinishedAtHeal: 2,
  },
});

describe(buildReport.name, () => {
  it('should pass when every job completed and was seen once, with its delay', () => {
    const report = buildReport(
      inputStub([outcomeStub(1), outcomeStub(2, { seenBy: 'poll', seenAt: T0 + 3200 })]),
    );
    expect(report.ok).toBe(true);
    expect(report.jobs.map((job) => job.delayMs)).toEqual([4, 200]);
  });

  it('should fail on a failed, unseen, twice-seen or errored job, naming each', () => {
    const report = buildReport(
      inputStub([
        outcomeStub(1, { status: 'failed' }),
        unseenStub(2),
        outcomeStub(3, { deliveries: 2 }),
        outcomeStub(4, { error: 'timed out after 10000 ms' }),
      ]),
    );
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([
      'job 1 ended failed',
      'job 2 ended unseen',
      'job 3 was seen 2 times',
      'job 4: timed out after 10000 ms',
    ]);
  });
});

describe(formatReport.name, () => {
  it('should show each job, the cost per transport and the disruption', () => {
    const text = formatReport(buildReport(inputStub([outcomeStub(1)])));
    expect(text).toMatch(/^1 +18:00:00\.000 +18:00:03\.000 +18:00:03\.004 +4 ms +sse +completed$/m);
    expect(text).toMatch(/^sse +2 +4\.0 KiB +2$/m);
    expect(text).toContain('fallback to POLL happened, return to SSE happened');
    expect(text).toContain('Result: every job completed and was seen once.');
  });
});

describe('with --webhook', () => {
  const webhooks = {
    url: 'http://127.0.0.1:4100',
    deliveries: 3,
    verified: 3,
    failedVerification: 0,
    retries: 1,
  };
  const receiptStub = (attempts: number, receivedAt?: number) => ({
    eventId: '42',
    status: 'completed',
    attempts,
    ...(receivedAt !== undefined && { receivedAt }),
  });
  const reportStub = (jobs: JobOutcome[], totals: Partial<typeof webhooks> = {}) =>
    buildReport({ ...inputStub(jobs), webhooks: { ...webhooks, ...totals } });

  it("should set each job's webhook delay and attempts beside its delay, and sum them up", () => {
    const report = reportStub([
      outcomeStub(1, { webhook: receiptStub(2, T0 + 4012) }),
      outcomeStub(2, { webhook: receiptStub(1, T0 + 3003) }),
    ]);
    expect(report.ok).toBe(true);
    expect(report.jobs.map((job) => job.webhookDelayMs)).toEqual([1012, 3]);
    const text = formatReport(report);
    expect(text).toMatch(/^job +created .* +delay +seen by +webhook +attempts +status$/m);
    expect(text).toMatch(/^1 +18:00:00\.000 .* +4 ms +sse +1012 ms +2 +completed$/m);
    expect(text).toMatch(/^2 +18:00:00\.000 .* +4 ms +sse +3 ms +1 +completed$/m);
    expect(text).toContain(
      'Webhooks: 3 deliveries to http://127.0.0.1:4100, 3 verified, 0 failed verification, 1 retry',
    );
    expect(text).toContain(
      'Result: every job completed and was seen once; every final webhook arrived, verified.',
    );
  });

  it('should fail on a missing or contradicting webhook, and on a failed verification', () => {
    const report = reportStub(
      [
        outcomeStub(1, { webhook: receiptStub(3) }),
        outcomeStub(2),
        outcomeStub(3, { webhook: { ...receiptStub(1, T0 + 3005), status: 'failed' } }),
      ],
      { failedVerification: 1 },
    );
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([
      'job 1: its final webhook did not arrive',
      'job 2: its final webhook did not arrive',
      'job 3: its webhook said failed, the client saw completed',
      '1 webhook request failed verification',
    ]);
    expect(formatReport(report)).toMatch(/^1 +18:00:00\.000 .* +4 ms +sse +- +3 +completed$/m);
    expect(formatReport(report)).toMatch(/^2 +18:00:00\.000 .* +4 ms +sse +- +0 +completed$/m);
  });

  it('should add neither columns nor a line without --webhook', () => {
    const report = buildReport(inputStub([outcomeStub(1)]));
    expect(describeWebhooks(report)).toBeUndefined();
    expect(formatReport(report)).not.toMatch(/webhook|attempts/i);
    expect(report.jobs[0]).not.toHaveProperty('webhookDelayMs');
  });
});

describe(describeDisruption.name, () => {
  const reportStub = (mode: string, disruption: Partial<RunReport['disruption']>) =>
    buildReport({
      ...inputStub([outcomeStub(1)]),
      mode,
      disruption: { ...inputStub([]).disruption, ...disruption },
    });

  it('should not report a missing fallback as a failure in POLL mode, where none applies', () => {
    const text = describeDisruption(
      reportStub('poll', { fallback: false, fellBack: false, returnedToSse: false }),
    );
    expect(text).toContain('POLL does not use them');
    expect(text).not.toContain('NOT');
  });

  it('should report a stream that resumed by itself when the fallback is off', () => {
    expect(
      describeDisruption(
        reportStub('sse', { fallback: false, fellBack: false, returnedToSse: true }),
      ),
    ).toBe('Network disruption: fallback off (--no-fallback); the stream reconnected and resumed');
    expect(
      describeDisruption(
        reportStub('sse', { fallback: false, fellBack: false, returnedToSse: false }),
      ),
    ).toContain('did NOT reconnect');
  });

  it('should say when a fallback that was due did not happen', () => {
    expect(
      describeDisruption(reportStub('auto', { fellBack: false, returnedToSse: false })),
    ).toContain('fallback to POLL did NOT happen, return to SSE did NOT happen');
    expect(
      describeDisruption(reportStub('auto', { returnedToSse: false, unfinishedAtHeal: 0 })),
    ).toContain('return to SSE not seen: every job had finished before the network healed');
    expect(describeDisruption(reportStub('auto', { dropped: false }))).toBe(
      'Network disruption: none (--no-drop)',
    );
  });

  it('should tell a stream not due yet from one that never came back', () => {
    // The last job settled 2 s after the heal: the library's next stream attempt was not due.
    expect(
      describeDisruption(
        reportStub('auto', { returnedToSse: false, unfinishedAtHeal: 2, settledAfterHealMs: 2000 }),
      ),
    ).toContain(
      "return to SSE not seen: the last job finished 2.0 s after the network healed, before the library's next stream attempt was due",
    );
    // Jobs ran on for longer than a return may take: that is a failure to report.
    expect(
      describeDisruption(
        reportStub('auto', {
          returnedToSse: false,
          unfinishedAtHeal: 2,
          settledAfterHealMs: SCHEDULE.upgradeTimeoutMs,
        }),
      ),
    ).toContain('return to SSE did NOT happen');
  });
});

describe('with several instances', () => {
  const kill: KillReport = {
    instance: 'api-2',
    port: 4002,
    pid: 102,
    at: T0 + 4000,
    afterJob: 3,
    reason: 'stream',
    runningJobs: 1,
    restartedAt: T0 + 8500,
    restartedPid: 202,
    streamMovedTo: 'api-1',
  };
  const reportStub = (killed: Partial<KillReport> = {}) => {
    const input = inputStub([
      outcomeStub(1, {
        createdOn: 'api-1',
        seenOn: 'api-2',
        servedBy: [
          { instance: 'api-1', via: 'api', statuses: ['pending'] },
          { instance: 'api-2', via: 'sse', statuses: ['running', 'completed'] },
        ],
      }),
    ]);
    return buildReport({
      ...input,
      instances: [
        ...input.instances,
        {
          name: 'api-2',
          url: 'http://127.0.0.1:4002',
          port: 4002,
          pid: 202,
          requests: 3,
          streams: 1,
        },
      ],
      disruption: { ...input.disruption, kill: { ...kill, ...killed } },
    });
  };

  it('should name the instance of each job and each status, and list the instances', () => {
    const text = formatReport(reportStub());
    expect(text).toMatch(/^Report: 1 jobs, JOB_TIME 3000 ms, mode auto, 2 instances on Redis$/m);
    expect(text).toMatch(/^1 +18:00:00\.000 .* +4 ms +sse +completed +api-2$/m);
    expect(text).toMatch(/^api-1 +4001 +101 +7 +1$/m);
    expect(text).toMatch(
      /^api-2 +4002 +202 +3 +1 +killed after job 3 \(pid 102\), restarted at the heal$/m,
    );
    expect(text).toContain(
      '  job 1: created on api-1; statuses from api-1 api (pending), api-2 sse (running, completed)',
    );
  });

  it('should describe the kill, where the stream went and what became of the instance', () => {
    const report = reportStub();
    expect(describeDisruption(report)).toBe(
      "Network disruption: api-2 killed (SIGKILL) after job 3, holding the client's stream; fallback to POLL happened, return to SSE happened on api-1 (1 fallbacks, 1 upgrades)",
    );
    expect(describeKill(report)).toBe(
      'Killed instance: api-2 (port 4002, pid 102, running 1 job); the next stream went to api-1; restarted when the network healed, 4.5 s after the kill (pid 202)',
    );
    expect(formatReport(report)).toContain(describeKill(report));
  });

  it('should say when the killed instance stayed down', () => {
    const { restartedAt: _at, restartedPid: _pid, ...down } = kill;
    const report = buildReport({
      ...reportStub(),
      disruption: { ...reportStub().disruption, kill: { ...down, restartError: 'port taken' } },
    });
    expect(describeKill(report)).toMatch(/; it stayed down: the restart failed \(port taken\)$/);
    // A server that cannot start fails the run (review of 2026-12-01: it exited 0).
    expect(report.ok).toBe(false);
    expect(report.problems).toContain("the killed instance's restart failed (port taken)");
    expect(formatReport(report)).toMatch(/killed after job 3 \(pid 102\), stayed down$/m);
  });

  it('should keep the report of one instance as it was', () => {
    const text = formatReport(buildReport(inputStub([outcomeStub(1)])));
    expect(text).not.toContain('api-1');
    expect(describeKill(buildReport(inputStub([outcomeStub(1)])))).toBeUndefined();
  });
});
