import { type Logger } from 'pino';
import { type ClientKey } from '../domain/client.js';
import { type Job } from '../domain/job.js';
import { shortClient } from './redact.js';

/**
 * One debug line per job change, where the change is made (JobsService for the memory driver and
 * every cancel, the BullMQ runner for the redis workers' steps). Off unless LOG_LEVEL is debug or
 * below, decided once: the check costs nothing per change.
 */
export class JobTransitionLog {
  private readonly logger: Logger | undefined;

  constructor(root: Logger | undefined) {
    this.logger = root?.isLevelEnabled('debug') ? root.child({ context: 'jobs' }) : undefined;
  }

  changed(clientId: ClientKey, job: Job): void {
    this.logger?.debug(
      {
        jobId: job.id,
        status: job.status,
        progress: job.progress,
        revision: job.revision,
        client: shortClient(clientId),
      },
      `job ${job.id} ${job.status}`,
    );
  }
}
