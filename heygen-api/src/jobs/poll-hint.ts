import { isFinished, type Job } from '../domain/job.js';

/** The response header that carries the poll hint. */
export const POLL_HINT_HEADER = 'X-Next-Poll-Ms';

/**
 * How long a polling client should wait before asking about this job again: until just after its
 * expected finish, or its `Cancel-After` deadline (ms since the epoch) when one comes first
 * (docs/protocol.md, "The poll hint"). Undefined for a finished job, which will not change again.
 */
export function pollHintMs(
  job: Job,
  now: number,
  marginMs: number,
  deadline = Infinity,
): number | undefined {
  if (isFinished(job)) return undefined;
  return Math.max(0, Math.min(Date.parse(job.expectedAt), deadline) - now) + marginMs;
}

/** The hint for a set of jobs: the soonest of theirs, `Cancel-After` deadlines by job id. */
export function batchPollHintMs(
  jobs: Job[],
  now: number,
  marginMs: number,
  deadlines?: ReadonlyMap<number, number>,
): number | undefined {
  let soonest: number | undefined;
  for (const job of jobs) {
    const hint = pollHintMs(job, now, marginMs, deadlines?.get(job.id));
    if (hint !== undefined && (soonest === undefined || hint < soonest)) soonest = hint;
  }
  return soonest;
}
