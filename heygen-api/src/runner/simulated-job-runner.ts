import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import { complete, fail, progressTo, start, type JobRecord } from '../domain/job.js';
import { type ApplyTransition, type JobRunner } from './job-runner.js';

export const SIMULATED_FAILURE = {
  code: 'SIMULATED_FAILURE',
  message: 'The job failed, as its creation asked',
} as const;

/**
 * Simulates the work with timers: the job starts at once, reports progress every
 * `progressIntervalMs`, and ends at its expected finish.
 */
@Injectable()
export class SimulatedJobRunner implements JobRunner, OnModuleDestroy {
  private readonly logger = new Logger(SimulatedJobRunner.name);
  private readonly timers = new Map<number, NodeJS.Timeout[]>();

  constructor(@Inject(AppConfig) private readonly config: AppConfig) {}

  run({ job, fail: shouldFail }: JobRecord, apply: ApplyTransition): void {
    const createdAt = Date.parse(job.createdAt);
    const finishAt = createdAt + job.duration;
    // Steps are applied one after another, so a slow store can never see the end before the start.
    let steps: Promise<unknown> = Promise.resolve();
    const report = (transition: Parameters<ApplyTransition>[0]): void => {
      steps = steps
        .then(() => apply(transition))
        .catch((error: unknown) =>
          this.logger.error(`Job ${job.id}: could not record a change`, error),
        );
    };

    const starter = setTimeout(() => report(start), 0);
    // Scheduled before the progress timer, so that at the finish it fires first and stops it.
    const finisher = setTimeout(
      () => {
        this.stop(job.id);
        report(shouldFail ? fail(SIMULATED_FAILURE) : complete);
      },
      Math.max(0, finishAt - Date.now()),
    );
    const progress = setInterval(() => {
      report(progressTo(((Date.now() - createdAt) / Math.max(1, job.duration)) * 100));
    }, this.config.progressIntervalMs);
    this.timers.set(job.id, [starter, finisher, progress]);
  }

  stop(id: number): void {
    for (const timer of this.timers.get(id) ?? []) clearTimeout(timer);
    this.timers.delete(id);
  }

  /** Number of jobs being worked on, for leak checks. */
  get running(): number {
    return this.timers.size;
  }

  onModuleDestroy(): void {
    for (const id of [...this.timers.keys()]) this.stop(id);
  }
}
