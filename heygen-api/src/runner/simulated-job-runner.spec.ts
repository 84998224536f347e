import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { configStub, clientStub } from '../../test/unit/stubs.js';
import { fakeClock } from 'heygen-test-support';
import { newJob, type Job, type JobRecord, type JobTransition } from '../domain/job.js';
import { InMemoryJobEvents } from '../events/in-memory-job-events.js';
import { InMemoryJobStore } from '../store/in-memory-job-store.js';
import { describeJobRunnerContract } from './job-runner.contract.js';
import { SIMULATED_FAILURE, SimulatedJobRunner } from './simulated-job-runner.js';

/** Runs a job through the runner, applying its transitions to a local copy. */
function runJob(sut: SimulatedJobRunner, fail = false, duration = 1000) {
  const record: JobRecord = { job: newJob(1, duration, Date.now()), clientId: clientStub, fail };
  const history: Job[] = [];
  let job = record.job;
  sut.run(record, (transition: JobTransition) => {
    const next = transition(job, Date.now());
    if (next) history.push((job = next));
    return Promise.resolve(next);
  });
  return { history, current: () => job };
}

describeJobRunnerContract('simulated, in memory', (env = {}) => {
  const config = configStub({ JOB_TIME: '300', ...env });
  const runner = new SimulatedJobRunner(config);
  const store = new InMemoryJobStore(config);
  const events = new InMemoryJobEvents(config);
  onTestFinished(() => {
    runner.onModuleDestroy();
    store.onModuleDestroy();
    events.onModuleDestroy();
  });
  return Promise.resolve({
    runners: [runner],
    store,
    events,
    shutdown: () => Promise.resolve(runner.onModuleDestroy()),
  });
});

describe(SimulatedJobRunner.name, () => {
  it('should start the job at once, report progress, and complete it at its expected finish', async () => {
    using clock = fakeClock();
    const sut = new SimulatedJobRunner(configStub({ PROGRESS_INTERVAL_MS: '250' }));
    const { history, current } = runJob(sut);

    await clock.advance(0);
    expect(current().status).toBe('running');
    await clock.advance(999);
    expect(current()).toMatchObject({ status: 'running', progress: 75 });
    await clock.advance(1);
    expect(current()).toMatchObject({ status: 'completed', progress: 100 });
    expect(history.map((job) => `${job.status}:${job.progress}`)).toEqual([
      'running:0',
      'running:25',
      'running:50',
      'running:75',
      'completed:100',
    ]);
    expect(sut.running).toBe(0);
  });

  it('should leave a job it is already working on as it is when handed it again', async () => {
    using clock = fakeClock();
    const sut = new SimulatedJobRunner(configStub());
    const first = runJob(sut);
    await clock.advance(0);
    const again = vi.fn(() => Promise.resolve(undefined));

    sut.run({ job: first.current(), clientId: clientStub, fail: false }, again);
    await clock.advance(1000);

    expect(again).not.toHaveBeenCalled();
    expect(first.current().status).toBe('completed');
  });

  it('should fail a job whose creation asked for it', async () => {
    using clock = fakeClock();
    const sut = new SimulatedJobRunner(configStub());
    const { current } = runJob(sut, true);
    await clock.advance(1000);
    expect(current()).toMatchObject({ status: 'failed', error: SIMULATED_FAILURE });
  });

  it('should report nothing more once stopped', async () => {
    using clock = fakeClock();
    const sut = new SimulatedJobRunner(configStub());
    const { history } = runJob(sut);
    await clock.advance(300);
    const reported = history.length;
    sut.stop(clientStub, 1);
    await clock.advance(5000);
    expect(history).toHaveLength(reported);
    expect(sut.running).toBe(0);
  });

  it('should complete a zero-duration job right after starting it', async () => {
    using clock = fakeClock();
    const sut = new SimulatedJobRunner(configStub());
    const { history } = runJob(sut, false, 0);
    await clock.advance(0);
    expect(history.map((job) => job.status)).toEqual(['running', 'completed']);
  });

  it('should keep one timer for any number of running jobs, and wake a job only when its progress moves', async () => {
    using clock = fakeClock();
    const sut = new SimulatedJobRunner(configStub({ PROGRESS_INTERVAL_MS: '500' }));
    const timersBefore = vi.getTimerCount();
    const histories = Array.from({ length: 1000 }, (_, i) => {
      const record: JobRecord = {
        job: newJob(i + 1, 600_000, Date.now()),
        clientId: clientStub,
        fail: false,
      };
      const history: Job[] = [];
      let job = record.job;
      sut.run(record, (transition: JobTransition) => {
        const next = transition(job, Date.now());
        if (next) history.push((job = next));
        return Promise.resolve(next);
      });
      return history;
    });
    expect(vi.getTimerCount() - timersBefore).toBe(1);
    const applied = (): number => histories.reduce((sum, history) => sum + history.length, 0);
    // 128 steps a turn of the event loop, the timer set again at once for the rest: the changes
    // of one turn reach their streams before the next turn's are applied.
    await clock.advance(0);
    expect(applied()).toBe(128);
    await clock.advance(20);
    expect(applied()).toBe(1000);
    // A ten-minute job moves 1 % every 6 s: in 5.9 s nothing changes, and nothing is applied.
    await clock.advance(5880);
    expect(applied()).toBe(1000);
    expect(vi.getTimerCount() - timersBefore).toBe(1);
    await clock.advance(120);
    expect(applied()).toBe(2000);
    expect(histories[0]!.at(-1)).toMatchObject({ status: 'running', progress: 1 });
    expect(sut.running).toBe(1000);
  });

  it('should apply every step already 50 ms late at once, however many', async () => {
    using clock = fakeClock();
    const sut = new SimulatedJobRunner(configStub());
    let applied = 0;
    for (let i = 0; i < 1000; i += 1) {
      const record: JobRecord = {
        job: newJob(i + 1, 600_000, Date.now()),
        clientId: clientStub,
        fail: false,
      };
      sut.run(record, () => {
        applied += 1;
        return Promise.resolve(undefined);
      });
    }
    // The event loop was held for 60 ms (the timer could not fire): the starts are that late.
    vi.setSystemTime(clock.now() + 60);
    await clock.advance(0);
    expect(applied).toBe(1000);
  });

  it('should clear every timer when the module is destroyed', async () => {
    using clock = fakeClock();
    const sut = new SimulatedJobRunner(configStub());
    const { history } = runJob(sut);
    sut.onModuleDestroy();
    await clock.advance(5000);
    expect(history).toEqual([]);
  });
});

describe(`${SimulatedJobRunner.name}.simulate`, () => {
  it('should take over a job another instance began, from its stored progress', async () => {
    using clock = fakeClock();
    const sut = new SimulatedJobRunner(configStub({ PROGRESS_INTERVAL_MS: '250' }));
    const begun = {
      ...newJob(1, 1000, Date.now() - 600),
      status: 'running' as const,
      progress: 50,
    };
    const history: Job[] = [];
    let job: Job = begun;
    const outcome = sut.simulate(
      { job: begun, clientId: clientStub, fail: false },
      (transition) => {
        const next = transition(job, Date.now());
        if (next) history.push((job = next));
        return Promise.resolve(next);
      },
    );
    await clock.advance(400);
    expect(await outcome).toBe('finished');
    expect(history.map((entry) => `${entry.status}:${entry.progress}`)).toEqual([
      'running:75',
      'completed:100',
    ]);
  });
});
