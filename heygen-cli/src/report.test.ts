import { describe, expect, it } from 'vitest';
import { buildReport, describeDisruption, formatReport, type JobOutcome } from './report.js';

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

describe(describeDisruption.name, () => {
  const reportStub = (
    mode: string,
    disruption: Partial<ReturnType<typeof inputStub>['disruption']>,
  ) =>
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
});
