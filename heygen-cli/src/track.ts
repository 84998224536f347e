import { type HeyGenAPI, type Job } from 'heygen-lib';
import { isFinished } from 'heygen-test-support/wire';
import { type ConnectionWatch } from './connection.js';
import { type Logger } from './logger.js';
import { type JobOutcome } from './report.js';

/**
 * Watches jobs through `listen` (every status change, logged) and records, for each, when the
 * client learned its final status, over which transport, and how many times.
 */
export class JobTracker {
  private readonly outcomes = new Map<number, JobOutcome>();

  constructor(
    private readonly heygen: HeyGenAPI,
    private readonly connection: ConnectionWatch,
    private readonly log: Logger,
    private readonly onChange: (job: Job) => void = () => {},
  ) {}

  watch(id: number, createdAt: number): void {
    const outcome: JobOutcome = { id, createdAt, deliveries: 0 };
    this.outcomes.set(id, outcome);
    this.heygen.listen(
      id,
      (_id, status, job) => {
        const via = this.connection.transport;
        this.onChange(job);
        if (!isFinished(job)) {
          this.log.log('heygen-cli', `job ${id} ${status}`, { via });
          return;
        }
        outcome.deliveries += 1;
        if (outcome.deliveries > 1) return;
        outcome.seenAt = Date.now();
        outcome.status = status;
        if (via) outcome.seenBy = via;
        if (job.finishedAt) outcome.finishedAt = Date.parse(job.finishedAt);
        this.log.log('heygen-cli', `job ${id} ${status}`, {
          via,
          delayMs:
            outcome.finishedAt === undefined ? undefined : outcome.seenAt - outcome.finishedAt,
        });
      },
      (error) => {
        outcome.error = error.message;
      },
    );
  }

  /** Records why waiting for a job failed (timeout, job failed, server gone). */
  fail(id: number, error: unknown): void {
    const outcome = this.outcomes.get(id);
    if (outcome && !outcome.error && outcome.status === undefined) {
      outcome.error = error instanceof Error ? error.message : String(error);
    }
  }

  results(): JobOutcome[] {
    return [...this.outcomes.values()];
  }
}
