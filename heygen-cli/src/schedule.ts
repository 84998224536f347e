/**
 * The canonical run (issue 4): job 1; 2 s later job 2; 2 s later job 3, and the network breaks;
 * 1 s later job 4; 0.5 s later the network heals; 0.5 s later job 5. The heal comes early enough
 * that the library's stream attempts, which back off after the cut (0.5, 1, 2 s with jitter), find
 * it healed while jobs still run: the run shows the return to SSE, not only the fallback.
 */
export const SCHEDULE = {
  /** Wait before creating job n (index n - 1); past the list, the last gap repeats. */
  gapsMs: [0, 2000, 2000, 1000, 1000],
  /** The stream is cut right after this job is created. */
  disruptAfterJob: 3,
  /** Streams pass again this long after the break. */
  healAfterBreakMs: 1500,
  /** How long a job may run past its JOB_TIME before the run gives up on it. */
  jobGraceMs: 30_000,
  /** heygen-api's default MAX_JOB_TIME_MS: how long a --url server's own jobs may take. */
  longestServerJobMs: 86_400_000,
  /** How long the library may take to return to SSE once the network heals. */
  upgradeTimeoutMs: 20_000,
  /**
   * How long a server given with --url has to answer /health, and each createJob call (retries
   * included): a dead --url fails in seconds, not after the library's 10 s default (issue 16).
   */
  callTimeoutMs: 3000,
  /**
   * With --webhook, the servers the run starts retry a webhook at once, then 1, 2 and 4 s later
   * (WEBHOOK_RETRY_SCHEDULE), so the retry of job 1's refused first attempt lands within the run.
   */
  webhookRetryScheduleMs: [0, 1000, 2000, 4000],
  /** With --webhook, how long the run waits for the last webhook once every job has settled. */
  webhookGraceMs: 10_000,
} as const;

/** Wait before creating job `n` (1-based). */
export function gapBefore(n: number): number {
  const { gapsMs } = SCHEDULE;
  return gapsMs[Math.min(n, gapsMs.length) - 1] ?? 0;
}

/** The job after which the stream is cut: the third, or the last when there are fewer. */
export function disruptionJob(jobs: number): number {
  return Math.min(SCHEDULE.disruptAfterJob, jobs);
}
