import { describe, expect, it } from 'vitest';
import { cancel, complete, fail, isFinished, newJob, progressTo, start, type Job } from './job.js';

const T0 = Date.parse('2026-11-23T18:00:00.000Z');
const jobStub = (): Job => newJob(7, 3000, T0);
const error = { code: 'X', message: 'broken' };

describe('job lifecycle', () => {
  it('should start pending at revision 1 with its expected finish', () => {
    expect(jobStub()).toEqual({
      id: 7,
      status: 'pending',
      progress: 0,
      revision: 1,
      duration: 3000,
      createdAt: '2026-11-23T18:00:00.000Z',
      updatedAt: '2026-11-23T18:00:00.000Z',
      expectedAt: '2026-11-23T18:00:03.000Z',
    });
  });

  it('should move pending → running → completed, bumping revision and times', () => {
    const running = start(jobStub(), T0 + 5)!;
    expect(running).toMatchObject({
      status: 'running',
      revision: 2,
      startedAt: '2026-11-23T18:00:00.005Z',
    });
    const halfway = progressTo(50)(running, T0 + 1500)!;
    expect(halfway).toMatchObject({
      progress: 50,
      revision: 3,
      updatedAt: '2026-11-23T18:00:01.500Z',
    });
    const done = complete(halfway, T0 + 3000)!;
    expect(done).toMatchObject({
      status: 'completed',
      progress: 100,
      revision: 4,
      finishedAt: '2026-11-23T18:00:03.000Z',
    });
    expect(isFinished(done)).toBe(true);
  });

  it('should fail a running job with its error, keeping its progress', () => {
    const running = progressTo(40)(start(jobStub(), T0)!, T0)!;
    expect(fail(error)(running, T0 + 10)).toMatchObject({ status: 'failed', progress: 40, error });
  });

  it('should cancel a pending or running job', () => {
    expect(cancel(jobStub(), T0)).toMatchObject({ status: 'cancelled', revision: 2 });
    expect(cancel(start(jobStub(), T0)!, T0)).toMatchObject({ status: 'cancelled', revision: 3 });
  });

  it('should never move a finished job', () => {
    const finished = [
      complete(start(jobStub(), T0)!, T0)!,
      fail(error)(start(jobStub(), T0)!, T0)!,
      cancel(jobStub(), T0)!,
    ];
    for (const job of finished) {
      for (const transition of [start, progressTo(99), complete, fail(error), cancel]) {
        expect(transition(job, T0 + 1)).toBeUndefined();
      }
    }
  });

  it('should not complete or fail a job that has not started', () => {
    expect(complete(jobStub(), T0)).toBeUndefined();
    expect(fail(error)(jobStub(), T0)).toBeUndefined();
    expect(progressTo(10)(jobStub(), T0)).toBeUndefined();
  });

  it('should only move progress forward, and keep 100 for completion', () => {
    const running = progressTo(60)(start(jobStub(), T0)!, T0)!;
    expect(progressTo(30)(running, T0)).toBeUndefined();
    expect(progressTo(60)(running, T0)).toBeUndefined();
    expect(progressTo(250)(running, T0)?.progress).toBe(99);
  });
});
