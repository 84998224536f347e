import { describe, expect, it, vi } from 'vitest';
import { clientStub } from '../../test/unit/stubs.js';
import { cancel, type Job, type JobTransition } from '../domain/job.js';
import { type JobEvents } from '../events/job-events.js';
import { type JobStore } from '../store/job-store.js';
import { type JobRunner } from './job-runner.js';
import { SIMULATED_FAILURE } from './simulated-job-runner.js';

/** Runners to test over one store and event log: one per instance (one in memory, two on Redis). */
export interface JobRunnerFixture {
  runners: JobRunner[];
  store: JobStore;
  events: JobEvents;
  /** Stops runner `i` as a SIGTERM would (graceful: it hands its jobs over). */
  shutdown(i: number): Promise<void>;
}

export type JobRunnerFactory = (env?: Record<string, string>) => Promise<JobRunnerFixture>;

const LIMITS = { activePerClient: 100, keptPerClient: 100, active: 1000 };

/** Creates a job and runs it on the first runner, recording every change published for it. */
async function runJob(
  { runners, store, events }: JobRunnerFixture,
  duration: number,
  fail = false,
) {
  const history: Job[] = [];
  // The runner's changes only: the created job (revision 1) is logged by the redis store itself.
  events.subscribe(clientStub, (event) => {
    if (event.job.revision > 1) history.push(event.job);
  });
  await events.head(clientStub);
  const { record } = await store.create({
    clientId: clientStub,
    duration,
    fail,
    now: Date.now(),
    limits: LIMITS,
  });
  const id = record!.job.id;
  // What JobsService does for a change: store, then events (unless the store logged it).
  const apply = async (transition: JobTransition) => {
    const updated = await store.update(clientStub, id, (job) => transition(job, Date.now()));
    if (updated && !updated.event) await events.publish(clientStub, updated.job);
    return updated?.job;
  };
  runners[0]!.run(record!, apply);
  const final = () =>
    history.find((job) => ['completed', 'failed', 'cancelled'].includes(job.status));
  return { id, history, apply, final };
}

/**
 * What every JobRunner must do (STYLE.md 9), run against each driver in real time: start, progress
 * and finish a job as its creation asked, stop on cancel from any instance, and finish a job whose
 * instance stopped.
 */
export function describeJobRunnerContract(name: string, factory: JobRunnerFactory): void {
  describe(`JobRunner contract: ${name}`, () => {
    it('should start the job, report growing progress, and complete it at its expected finish, each change once', async () => {
      const fixture = await factory({ PROGRESS_INTERVAL_MS: '100' });
      const started = Date.now();
      const { history, final } = await runJob(fixture, 500);
      await vi.waitFor(() => expect(final()).toBeDefined(), { timeout: 5000 });
      expect(final()).toMatchObject({ status: 'completed', progress: 100 });
      expect(Date.now() - started).toBeGreaterThanOrEqual(500);
      expect(history[0]).toMatchObject({ status: 'running' });
      const progress = history.map((job) => job.progress);
      expect(progress).toEqual([...progress].sort((a, b) => a - b));
      expect(history.length).toBeGreaterThanOrEqual(4);
      expect(history.map((job) => job.revision)).toEqual(history.map((_, i) => i + 2));
    });

    it('should work on a job once, however often it is handed over (a replayed creation)', async () => {
      const fixture = await factory({ PROGRESS_INTERVAL_MS: '100' });
      const { id, history, apply, final } = await runJob(fixture, 400);
      const record = (await fixture.store.get(clientStub, id))!;
      await vi.waitFor(() => expect(history[0]?.status).toBe('running'), { timeout: 5000 });
      for (const runner of fixture.runners) runner.run(record, apply);
      await vi.waitFor(() => expect(final()).toMatchObject({ status: 'completed' }), {
        timeout: 5000,
      });
      expect(history.map((job) => job.revision)).toEqual(history.map((_, i) => i + 2));
    });

    it('should fail a job whose creation asked for it', async () => {
      const fixture = await factory();
      const { final } = await runJob(fixture, 200, true);
      await vi.waitFor(() => expect(final()).toBeDefined(), { timeout: 5000 });
      expect(final()).toMatchObject({ status: 'failed', error: SIMULATED_FAILURE });
    });

    it('should report nothing more once cancelled and stopped, from any instance', async () => {
      const fixture = await factory();
      const { id, history, apply } = await runJob(fixture, 1500);
      await vi.waitFor(() => expect(history[0]?.status).toBe('running'), { timeout: 5000 });
      await apply(cancel);
      fixture.runners.at(-1)!.stop(clientStub, id);
      await vi.waitFor(() => expect(history.at(-1)?.status).toBe('cancelled'));
      const reported = history.length;
      await new Promise((resolve) => setTimeout(resolve, 1800));
      expect(history).toHaveLength(reported);
      expect((await fixture.store.get(clientStub, id))?.job.status).toBe('cancelled');
    });

    it('should finish a job whose instance stopped while running it', async () => {
      const fixture = await factory();
      const { history, final } = await runJob(fixture, 1200);
      await vi.waitFor(() => expect(history[0]?.status).toBe('running'), { timeout: 5000 });
      await fixture.shutdown(0);
      if (fixture.runners.length === 1) return; // one process: nobody is left to finish it
      await vi.waitFor(() => expect(final()).toMatchObject({ status: 'completed' }), {
        timeout: 8000,
      });
      const revisions = history.map((job) => job.revision);
      expect(new Set(revisions).size).toBe(revisions.length);
    });
  });
}
