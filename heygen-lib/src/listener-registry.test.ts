import { describe, expect, it, vi } from 'vitest';
import { fakeClock } from 'heygen-test-support';
import { jobStub } from '../test/support/fakes.js';
import { elapsedNow } from './delay.js';
import { AbortError } from './errors/abort-error.js';
import type { HeyGenError } from './errors/heygen-error.js';
import { JobNotFoundError } from './errors/job-not-found-error.js';
import { createListenerRegistry, type Listener } from './listener-registry.js';
import type { Job } from './job.js';

const newSut = () => {
  const reported: unknown[] = [];
  const finished: Job[] = [];
  const safely = (run: () => void): void => {
    try {
      run();
    } catch (error) {
      reported.push(error);
    }
  };
  const changes = { count: 0 };
  const sut = createListenerRegistry({
    safely,
    report: (error) => reported.push(error),
    finished: (job) => finished.push(job),
    changed: () => changes.count++,
  });
  return { sut, reported, finished, changes };
};

/** A listener that records what it hears. */
const recorder = (wait?: boolean) => {
  const jobs: Job[] = [];
  const errors: HeyGenError[] = [];
  const listener: Listener = {
    job: (job) => jobs.push(job),
    error: (error) => errors.push(error),
    ...(wait && { wait }),
  };
  return { listener, jobs, errors };
};

describe(createListenerRegistry.name, () => {
  it('should drop an event another channel already delivered, passing its eventId on', () => {
    const { sut } = newSut();
    const { listener, jobs } = recorder();
    sut.add(1, listener);
    // The stream's event, then the same change from a poll after a switch (issue 19).
    sut.update(jobStub(1, 'running', 2, { eventId: '1764504000123' }));
    sut.update(jobStub(1, 'running', 2, { eventId: '1764504000123' }));
    sut.update(jobStub(1, 'completed', 3, { eventId: '1764504000200' }));
    // A server without eventId: the revision alone still tells.
    sut.update(jobStub(1, 'completed', 3));
    expect(jobs.map((job) => job.eventId)).toEqual(['1764504000123', '1764504000200']);
  });

  it('should pass on each newer revision once, and drop repeated and older ones', () => {
    const { sut, finished } = newSut();
    const { listener, jobs } = recorder();
    sut.add(1, listener);
    sut.update(jobStub(1, 'running', 2));
    sut.update(jobStub(1, 'running', 2));
    sut.update(jobStub(1, 'pending', 1));
    sut.update(jobStub(1, 'completed', 3));
    expect(jobs.map((job) => job.revision)).toEqual([2, 3]);
    expect(finished.map((job) => job.id)).toEqual([1]);
    expect(sut.job(1)?.revision).toBe(3);
  });

  it('should give a late listener the known copy, after add() returned', async () => {
    const { sut } = newSut();
    sut.update(jobStub(1, 'running', 2));
    const { listener, jobs } = recorder();
    sut.add(1, listener);
    expect(jobs).toEqual([]);
    await Promise.resolve();
    expect(jobs.map((job) => job.revision)).toEqual([2]);
  });

  it('should not deliver the known copy to a listener removed before the microtask', async () => {
    const { sut } = newSut();
    sut.update(jobStub(1, 'running', 2));
    const { listener, jobs } = recorder();
    sut.add(1, listener);
    expect(sut.remove(1, listener)).toBe(true);
    expect(sut.remove(1, listener)).toBe(false);
    await Promise.resolve();
    expect(jobs).toEqual([]);
    expect(sut.listeners(1)).toEqual([]);
  });

  it('should say when the watched jobs may have changed: a removal, an end, a hard error', () => {
    const { sut, changes } = newSut();
    const { listener } = recorder();
    sut.add(1, listener);
    sut.add(2, recorder().listener);
    sut.update(jobStub(1, 'running', 2));
    expect(changes.count).toBe(0);
    sut.remove(1, listener);
    sut.remove(1, listener); // not registered any more: no change
    sut.update(jobStub(2, 'completed', 3));
    sut.fail([3], () => new AbortError('x'), true);
    sut.fail([3], () => new AbortError('x'));
    expect(changes.count).toBe(3);
  });

  it('should list watched ids whose job has not finished', () => {
    const { sut } = newSut();
    for (const id of [1, 2, 3]) sut.add(id, recorder().listener);
    sut.update(jobStub(2, 'completed', 3));
    expect(sut.watched()).toEqual([1, 3]);
  });

  it('should tell an error to every listener of the ids; a hard one removes them', () => {
    const { sut, reported } = newSut();
    const first = recorder();
    const second = recorder();
    sut.add(1, first.listener);
    sut.add(2, second.listener);
    sut.fail([1], () => new AbortError('soft'), true);
    expect(sut.listeners(1)).toHaveLength(1);
    sut.fail([1, 2], (id) => new JobNotFoundError(id));
    expect(first.errors.map((e) => e.code)).toEqual(['ABORTED', 'JOB_NOT_FOUND']);
    expect(second.errors).toEqual([new JobNotFoundError(2)]);
    expect(sut.watched()).toEqual([]);
    expect(reported).toHaveLength(3);
  });

  it('should tell a soft error to listen() callbacks only, never to a wait', () => {
    const { sut } = newSut();
    const wait = recorder(true);
    const callback = recorder();
    sut.add(1, wait.listener);
    sut.add(1, callback.listener);
    sut.fail([1], () => new AbortError('garbled'), true);
    expect(callback.errors).toHaveLength(1);
    expect(wait.errors).toEqual([]);
  });

  it('should keep delivering when a listener throws, and report what it threw', () => {
    const { sut, reported } = newSut();
    const boom = new Error('app bug');
    sut.add(1, {
      job: () => {
        throw boom;
      },
      error: () => {},
    });
    const { listener, jobs } = recorder();
    sut.add(1, listener);
    sut.update(jobStub(1, 'running', 2));
    expect(jobs).toHaveLength(1);
    expect(reported).toEqual([boom]);
  });

  it('should tell waits, not listen() callbacks, when cleared, and forget everyone', () => {
    const { sut } = newSut();
    const wait = recorder(true);
    const callback = recorder();
    sut.add(1, wait.listener);
    sut.add(1, callback.listener);
    sut.clear(new AbortError('Disposed'));
    expect(wait.errors.map((e) => e.code)).toEqual(['ABORTED']);
    expect(callback.errors).toEqual([]);
    expect(sut.listeners(1)).toEqual([]);
  });

  it('should remember at most 1000 jobs, forgetting the least recently updated', () => {
    const { sut } = newSut();
    for (let id = 1; id <= 1001; id++) sut.update(jobStub(id, 'running', 2));
    sut.update(jobStub(2, 'running', 3)); // 2 is fresh again
    sut.update(jobStub(1002, 'running', 2));
    expect(sut.job(1)).toBeUndefined();
    expect(sut.job(3)).toBeUndefined();
    expect(sut.job(2)?.revision).toBe(3);
    expect(sut.job(1002)).toBeDefined();
    const listener = vi.fn();
    sut.add(1, { job: listener, error: () => {} });
    expect(listener).not.toHaveBeenCalled();
  });
});

describe(`${createListenerRegistry.name}, reviewed under faults (2026-11-30)`, () => {
  it('should keep watched jobs past the cache size, so an older copy is never taken for news', () => {
    const { sut } = newSut();
    const watched = recorder();
    sut.add(100, watched.listener);
    sut.update(jobStub(100, 'running', 5));
    // A thousand other jobs seen since, none watched: the cache is full of them.
    for (let id = 1; id <= 1000; id++) sut.update(jobStub(id + 1000, 'completed', 3));

    sut.update(jobStub(100, 'pending', 2));

    expect(watched.jobs.map((job) => job.revision)).toEqual([5]);
    expect(sut.watched()).toEqual([100]);
    expect(sut.job(1001)).toBeUndefined(); // the oldest unwatched one went instead
  });

  it('should not call a listener removed by another one during the same update', () => {
    const { sut } = newSut();
    const second = recorder();
    sut.add(1, { job: () => sut.remove(1, second.listener), error: () => {} });
    sut.add(1, second.listener);

    sut.update(jobStub(1, 'running', 2));

    expect(second.jobs).toEqual([]);
  });

  it('should not tell an error to a listener removed by another one during the same failure', () => {
    const { sut } = newSut();
    const second = recorder(true);
    sut.add(1, { job: () => {}, error: () => sut.remove(1, second.listener) });
    sut.add(1, second.listener);

    sut.fail([1], (id) => new JobNotFoundError(id));

    expect(second.errors).toEqual([]);
  });

  it('should bring a due time forward to the watch period, and forget it once finished', () => {
    using _clock = fakeClock();
    const { sut } = newSut();
    sut.update(jobStub(1, 'running', 2));
    // Due times are on the clock that only moves forward (delay.ts).
    sut.setDueAt(1, elapsedNow() + 5000);

    sut.setWatchWithin(1, 500);

    expect(sut.dueAt(1)).toBe(elapsedNow() + 500);
    expect(sut.watchWithin(1)).toBe(500);
    expect(sut.watchWithin(2)).toBe(Infinity);
    sut.update(jobStub(1, 'completed', 3));
    expect(sut.watchWithin(1)).toBe(Infinity);
  });
});
