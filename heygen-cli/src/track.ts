import { type HeyGenAPI, type Job } from 'heygen-lib';
import { isFinished } from 'heygen-test-support/wire';
import { type ConnectionWatch } from './connection.js';
import { type Logger } from './logger.js';
import { type JobOutcome } from './report.js';
import { type RequestLog } from './requests.js';

/**
 * Watches jobs through `listen` (every status change, logged) and records, for each, when the
 * client learned its final status, over which transport and from which instance, and how many
 * times; and which instances carried its statuses on the way.
 */
export class JobTracker {
  private readonly outcomes = new Map<number, JobOutcome>();
  /** The longest `duration` of a job seen: what the server ran them for. */
  private longestDuration: number | undefined;

  private readonly requests: RequestLog | undefined;
  private readonly logInstances: boolean;
  private readonly onChange: (job: Job) => void;

  /**
   * `requests`: what the proxy forwarded, to name the instance that carried each status;
   * `logInstances`: name it on the log lines too (with several instances).
   */
  constructor(
    private readonly heygen: HeyGenAPI,
    private readonly connection: ConnectionWatch,
    private readonly log: Logger,
    {
      requests,
      logInstances = false,
      onChange = () => {},
    }: { requests?: RequestLog; logInstances?: boolean; onChange?: (job: Job) => void } = {},
  ) {
    this.requests = requests;
    this.logInstances = logInstances;
    this.onChange = onChange;
  }

  /** `createdOn`: the instance that answered the creation. */
  watch(id: number, createdAt: number, createdOn?: string): void {
    const outcome: JobOutcome = {
      id,
      createdAt,
      deliveries: 0,
      ...(createdOn !== undefined && { createdOn }),
      servedBy: [],
    };
    this.outcomes.set(id, outcome);
    // listen() first hands over the copy the library already has, in a microtask: the creation's
    // answer (or, rarely, the same revision brought by the stream just before it).
    let fromCreation = createdOn !== undefined;
    setImmediate(() => (fromCreation = false));
    this.heygen.listen(
      id,
      (_id, status, job) => {
        const via = this.connection.transport;
        const carrier = fromCreation
          ? { instance: createdOn, via: 'api' }
          : { instance: this.requests?.carrierOf(id, via), via: via ?? 'api' };
        const instance = carrier.instance;
        if (instance !== undefined) recordCarrier(outcome, instance, carrier.via, status);
        if (typeof job.duration === 'number') {
          this.longestDuration = Math.max(this.longestDuration ?? 0, job.duration);
        }
        this.onChange(job);
        const shown = this.logInstances ? instance : undefined;
        if (!isFinished(job)) {
          this.log.log('heygen-cli', `job ${id} ${status}`, { via, instance: shown });
          return;
        }
        outcome.deliveries += 1;
        if (outcome.deliveries > 1) return;
        outcome.seenAt = Date.now();
        outcome.status = status;
        if (via) outcome.seenBy = via;
        if (instance !== undefined) outcome.seenOn = instance;
        if (job.finishedAt) outcome.finishedAt = Date.parse(job.finishedAt);
        this.log.log('heygen-cli', `job ${id} ${status}`, {
          via,
          instance: shown,
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

  /** How long the server ran the jobs (their `duration`), once any was seen. */
  jobTime(): number | undefined {
    return this.longestDuration;
  }

  results(): JobOutcome[] {
    return [...this.outcomes.values()];
  }
}

/**
 * Adds a delivered status to the job's carriers: to the last entry when the same instance carried
 * it over the same transport, else as a new entry, so that the list reads in order.
 */
function recordCarrier(outcome: JobOutcome, instance: string, via: string, status: string): void {
  const carriers = (outcome.servedBy ??= []);
  const last = carriers.at(-1);
  if (last?.instance === instance && last.via === via) {
    if (!last.statuses.includes(status)) last.statuses.push(status);
  } else carriers.push({ instance, via, statuses: [status] });
}
