import { describe, expect, it } from 'vitest';
import { clientStub } from '../../test/unit/stubs.js';
import {
  cancel,
  complete,
  fail,
  newJob,
  progressTo,
  start,
  type Job,
  type JobRecord,
  withEventId,
} from '../domain/job.js';
import { pack, repack, stampEvent, unpack } from './packed-job.js';

const T0 = Date.UTC(2026, 10, 30, 12, 0, 0, 123);
const client = { key: clientStub };

/** A record whose job went through `steps`, one ms apart, as the runner would apply them. */
function recordAfter(...steps: ((job: Job, now: number) => Job | undefined)[]): JobRecord {
  let job = newJob(T0 + 7, 2500, T0);
  steps.forEach((step, i) => {
    job = step(job, T0 + 10 * (i + 1))!;
  });
  return { job, clientId: clientStub, fail: false };
}

describe('packed jobs', () => {
  it.each([
    ['pending', recordAfter()],
    ['running at some progress', recordAfter(start, progressTo(42))],
    ['completed', recordAfter(start, progressTo(50), complete)],
    ['failed with an error', recordAfter(start, fail({ code: 'X', message: 'failed' }))],
    ['cancelled before it started', recordAfter(cancel)],
    [
      'created with an idempotency key',
      { ...recordAfter(start), fail: true, idempotency: { key: 'k', fingerprint: 'f' } },
    ],
  ])('should unpack a %s job as it was, with no key set to undefined', (_, record) => {
    const unpacked = unpack(pack(record, client));
    expect(unpacked).toStrictEqual(record);
  });

  it('should follow every change made to it in place', () => {
    const record = recordAfter();
    const packed = pack(record, client);
    let job = record.job;
    for (const step of [start, progressTo(10), progressTo(90), complete]) {
      job = step(job, Date.parse(job.updatedAt) + 333)!;
      repack(packed, job);
      expect(unpack(packed).job).toStrictEqual(job);
    }
    expect(packed.finishedAt).toBe(Date.parse(job.finishedAt!));
  });

  it('should hand out a new record each time, so a reader never sees a later change', () => {
    const packed = pack(recordAfter(), client);
    const first = unpack(packed);
    repack(packed, start(first.job, T0 + 50)!);
    expect(first.job.status).toBe('pending');
    expect(unpack(packed)).not.toBe(unpack(packed));
  });

  it.each([
    ['unfinished', recordAfter(start)],
    ['finished', recordAfter(start, complete)],
  ])('should keep the eventId of a %s job, recorded after the change', (_, record) => {
    const packed = pack(record, client);
    expect(unpack(packed).job.eventId).toBeUndefined();
    const told = withEventId(record.job, String(record.job.id + 12));

    stampEvent(packed, told);
    expect(unpack(packed).job).toStrictEqual(told);
    // An event id behind the job's id (clocks of two sequences) packs as well.
    const behind = withEventId(record.job, String(record.job.id - 5));
    stampEvent(packed, behind);
    expect(unpack(packed).job).toStrictEqual(behind);
  });

  it('should ignore the eventId of a state the job has already left', () => {
    const record = recordAfter(start);
    const packed = pack(record, client);
    const next = progressTo(20)(record.job, T0 + 500)!;
    repack(packed, next);

    stampEvent(packed, withEventId(record.job, String(T0 + 400)));
    expect(unpack(packed).job).toStrictEqual(next);
  });

  it('should pack a finished job with its eventId, and the eventId moves to the next change', () => {
    const running = withEventId(recordAfter(start).job, String(T0 + 30));
    const packed = pack({ job: running, clientId: clientStub, fail: false }, client);
    const done = withEventId(complete(running, T0 + 90)!, String(T0 + 91));

    repack(packed, done);
    expect(unpack(packed).job).toStrictEqual(done);
  });
});
