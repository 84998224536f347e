/** The fields of a job the lateness needs (domain/job.ts `Job`). */
interface JobTimes {
  expectedAt: string;
  finishedAt?: string;
}

/**
 * What a poll tells about the poll hint (jobs/poll-hint.ts, docs/metrics.md): every hint given for
 * an unfinished job points at the same moment, its `expectedAt` plus POLL_HINT_MARGIN_MS, so a
 * poll at or after that moment is one that waited at least the hint. Such a poll either found the
 * final state, `lateMs` after the job reached it (the hint's cost in delay), or found the job still
 * running (`early`: the hint was too short, the poll was wasted). A poll before that moment, which
 * did not follow the hint, tells nothing: undefined.
 */
export function pollHintLateness(
  job: JobTimes,
  now: number,
  marginMs: number,
): { lateMs: number } | 'early' | undefined {
  if (now < Date.parse(job.expectedAt) + marginMs) return undefined;
  if (job.finishedAt === undefined) return 'early';
  return { lateMs: Math.max(0, now - Date.parse(job.finishedAt)) };
}
