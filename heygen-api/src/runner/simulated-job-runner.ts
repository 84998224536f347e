import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import { cancelBecause, DEADLINE_PASSED } from '../deadlines/cancel-reasons.js';
import { type ClientKey } from '../domain/client.js';
import {
  complete,
  fail,
  progressTo,
  start,
  type JobRecord,
  type JobTransition,
} from '../domain/job.js';
import { AppMetrics } from '../metrics/app-metrics.js';
import { type ApplyTransition, type JobRunner, type RunOptions } from './job-runner.js';
import { MinHeap } from '../scheduling/min-heap.js';
import { EarliestTimer } from '../scheduling/earliest-timer.js';

export const SIMULATED_FAILURE = {
  code: 'SIMULATED_FAILURE',
  message: 'The job failed, as its creation asked',
} as const;

/** One job being worked on, waiting in the schedule for its next step. */
interface Task {
  key: string;
  apply: ApplyTransition;
  id: number;
  createdAt: number;
  /** At least 1 ms, so that progress is a finite fraction. */
  span: number;
  finishAt: number;
  /** Cancel-After: cancelled at this time unless finished first; Infinity when none. */
  cancelAt: number;
  fail: boolean;
  /** The progress last reported. */
  progress: number;
  started: boolean;
  /** When the next step is due, and the order it was scheduled in (ties keep that order). */
  due: number;
  order: number;
  stopped: boolean;
  /** Settles `simulate`'s promise: the last step applied, or the task stopped. */
  settle: (outcome: SimulationOutcome) => void;
}

/** How a simulation ended: its job reached its last step, or it was stopped first. */
export type SimulationOutcome = 'finished' | 'stopped';

/** Progress steps are woken on this grid of the clock, ms. */
const WAKE_UP_GRID_MS = 50;

/**
 * The most steps one turn of the event loop applies: thousands of jobs due at one grid tick would
 * otherwise hold every change's stream write until the last of them is applied.
 */
const STEPS_PER_TURN = 128;

/**
 * Steps already this late (ms) are applied at once, however many: a server too busy for its steps
 * falls no further behind (docs/design.md, "One timer for every job").
 */
const MAX_STEP_LAG_MS = 50;

const taskKey = (clientId: ClientKey, id: number): string => `${clientId}#${id}`;

/**
 * Simulates the work: a job starts at once, its progress moves on the `PROGRESS_INTERVAL_MS` grid
 * counted from its creation, and it ends at its expected finish.
 *
 * One timer for every job (issue 18): the jobs wait in a min-heap ordered by their next step, and
 * a job is woken only when its progress actually changes (a ten-minute job moves 1 % every 6 s, so
 * it is woken every 6 s, not every 500 ms for an update that would change nothing). 10,000 running
 * jobs with no client cost one timer and ~1,700 steps a second, not 20,000 interval callbacks.
 */
@Injectable()
export class SimulatedJobRunner implements JobRunner, OnModuleDestroy {
  private readonly logger = new Logger(SimulatedJobRunner.name);
  private readonly tasks = new Map<string, Task>();
  private readonly schedule = new MinHeap<Task>(
    (a, b) => a.due < b.due || (a.due === b.due && a.order < b.order),
  );
  private scheduled = 0;
  private readonly timer = new EarliestTimer(() => this.fire());

  constructor(
    @Inject(AppConfig) private readonly config: AppConfig,
    @Inject(AppMetrics) metrics: AppMetrics = new AppMetrics(),
  ) {
    metrics.readAtScrape('runningJobs', () => this.running);
  }

  run(record: JobRecord, apply: ApplyTransition, { cancelAt }: RunOptions = {}): void {
    if (this.tasks.has(taskKey(record.clientId, record.job.id))) return;
    void this.simulate(record, apply, cancelAt);
  }

  /**
   * Works on the job from where its record stands (a job another instance began is taken over:
   * started, at its progress), and settles when it is done or stopped. Never rejects.
   */
  simulate(
    { job, clientId, fail: shouldFail }: JobRecord,
    apply: ApplyTransition,
    cancelAt = Infinity,
  ): Promise<SimulationOutcome> {
    const createdAt = Date.parse(job.createdAt);
    return new Promise((settle) => {
      const task: Task = {
        key: taskKey(clientId, job.id),
        apply,
        id: job.id,
        createdAt,
        span: Math.max(1, job.duration),
        finishAt: createdAt + job.duration,
        cancelAt,
        fail: shouldFail,
        progress: job.progress,
        started: job.status !== 'pending',
        due: Date.now(),
        order: 0,
        stopped: false,
        settle,
      };
      const previous = this.tasks.get(task.key);
      if (previous) this.halt(previous);
      this.tasks.set(task.key, task);
      if (task.started) task.due = this.nextDue(task);
      this.enqueue(task);
    });
  }

  stop(clientId: ClientKey, id: number): void {
    const task = this.tasks.get(taskKey(clientId, id));
    if (task) this.halt(task);
  }

  /** Stops every job (the instance hands them over to the others); returns how many it held. */
  stopAll(): number {
    const count = this.tasks.size;
    for (const task of [...this.tasks.values()]) this.halt(task);
    return count;
  }

  private halt(task: Task): void {
    // Left in the heap, skipped when it comes up: removing from the middle of a heap costs more.
    task.stopped = true;
    if (this.tasks.get(task.key) === task) this.tasks.delete(task.key);
    task.settle('stopped');
  }

  /** Number of jobs being worked on, for leak checks. */
  get running(): number {
    return this.tasks.size;
  }

  onModuleDestroy(): void {
    this.stopAll();
    this.schedule.clear();
    this.timer.clear();
  }

  private enqueue(task: Task): void {
    task.order = this.scheduled++;
    this.schedule.push(task);
    this.arm();
  }

  /** Sets the one timer for the earliest step, unless it is already set for that time or earlier. */
  private arm(): void {
    let next = this.schedule.peek();
    while (next?.stopped) {
      this.schedule.pop();
      next = this.schedule.peek();
    }
    if (next) this.timer.setFor(next.due);
  }

  private fire(): void {
    const now = Date.now();
    let steps = 0;
    for (let task = this.schedule.peek(); task && task.due <= now; task = this.schedule.peek()) {
      // The rest of a large batch waits for the next turn of the event loop (the timer, set again
      // below, fires at once): each turn's changes reach their streams before the next batch.
      if (steps >= STEPS_PER_TURN && task.due > now - MAX_STEP_LAG_MS) break;
      this.schedule.pop();
      if (task.stopped) continue;
      this.step(task, now);
      steps += 1;
    }
    this.arm();
  }

  /**
   * Applies the task's step, then schedules the next one once it is recorded: steps of one job are
   * applied one after another, so a slow store can never see the end before the start.
   */
  private step(task: Task, now: number): void {
    let transition: JobTransition;
    let last = false;
    // The deadline is in the schedule like any step (issue 19): no timer of its own. A job that
    // finishes by its deadline completes; one not started yet (still queued) is cancelled.
    if (now >= task.cancelAt && (!task.started || task.cancelAt < task.finishAt)) {
      last = true;
      if (this.tasks.get(task.key) === task) this.tasks.delete(task.key);
      transition = cancelBecause(DEADLINE_PASSED);
    } else if (!task.started) {
      task.started = true;
      transition = start;
    } else if (now >= task.finishAt) {
      last = true;
      if (this.tasks.get(task.key) === task) this.tasks.delete(task.key);
      transition = task.fail ? fail(SIMULATED_FAILURE) : complete;
    } else {
      // Integer arithmetic up to the one division: 100·elapsed/span ≥ progress + 1 holds exactly.
      task.progress = Math.min(99, Math.floor((100 * (now - task.createdAt)) / task.span));
      transition = progressTo((100 * (now - task.createdAt)) / task.span);
    }
    const next = (): void => {
      if (last) task.settle('finished');
      if (last || task.stopped) return;
      task.due = this.nextDue(task);
      if (task.due <= Date.now()) this.step(task, Date.now());
      else this.enqueue(task);
    };
    // One promise hop per step: 10,000 running jobs make ~1,700 steps a second.
    task.apply(transition).then(next, (error: unknown) => {
      this.logger.error(`Job ${task.id}: could not record a change`, error);
      next();
    });
  }

  /**
   * The first tick of the progress grid (creation + k·interval) at which the progress passes the
   * one last reported, or the expected finish if that comes first.
   */
  private nextDue(task: Task): number {
    const interval = this.config.progressIntervalMs;
    const target = task.progress + 1;
    if (target >= 100) return Math.min(task.finishAt, task.cancelAt);
    // The smallest k with 100·k·interval ≥ target·span: all integers, so the ceiling is exact.
    const tick = Math.ceil((target * task.span) / (100 * interval));
    // Rounded up to the wake-up grid, so that jobs created at different moments share wake-ups
    // (20 a second at most) instead of each taking its own; the finish is never rounded.
    const due = Math.ceil((task.createdAt + tick * interval) / WAKE_UP_GRID_MS) * WAKE_UP_GRID_MS;
    return Math.min(task.finishAt, task.cancelAt, due);
  }
}
