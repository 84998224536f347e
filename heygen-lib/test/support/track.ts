import { vi } from 'vitest';
import type { HeyGenAPI, JobStatus } from '../../src/index.js';

/** Records every status each listener saw, per job id. */
export const track = (sut: HeyGenAPI, ids: number[]): Map<number, JobStatus[]> => {
  const seen = new Map<number, JobStatus[]>();
  for (const id of ids) {
    seen.set(id, []);
    sut.listen(id, (jobId, status) => seen.get(jobId)!.push(status));
  }
  return seen;
};

/** Creates `count` jobs in parallel. */
export const createJobs = (sut: HeyGenAPI, count: number, duration: number): Promise<number[]> =>
  Promise.all(Array.from({ length: count }, () => sut.createJob({ duration })));

/** `vi.waitFor` with room for a loaded machine: the outcome matters, not the time it takes. */
export const eventually = <T>(check: () => T): Promise<T> =>
  vi.waitFor(check, { timeout: 15_000, interval: 20 });
