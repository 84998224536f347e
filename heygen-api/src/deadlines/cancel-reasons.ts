import { cancel, type JobError, type JobTransition } from '../domain/job.js';

/**
 * Why the server cancelled a job by itself: shown as the cancelled job's `error` (docs/protocol.md,
 * "Deadlines"). A job its client cancelled has no `error`.
 */
export const DEADLINE_PASSED = {
  code: 'DEADLINE',
  message: 'The job had not finished by its Cancel-After deadline',
} as const satisfies JobError;

export const UNWATCHED = {
  code: 'UNWATCHED',
  message: 'No stream, poll or held wait watched the job for its cancelWhenUnwatched time',
} as const satisfies JobError;

/** Cancels an unfinished job, recording why. */
export function cancelBecause(error: JobError): JobTransition {
  return (job, now) => {
    const cancelled = cancel(job, now);
    return cancelled && { ...cancelled, error };
  };
}
