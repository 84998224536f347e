import { expect, vi } from 'vitest';
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

/** Every state of a job that completes, in order. */
export const LIFECYCLE: JobStatus[] = ['pending', 'running', 'completed'];

/**
 * What listeners of completed jobs saw. A stream carries every change, so each state exactly once;
 * polling may miss a short state between two polls (a poll that follows the hint asks once the job
 * is due), but what it reports still moves forward, once per state, from `pending` to `completed`.
 */
export const expectStates = (seen: JobStatus[][], transport: 'sse' | 'poll'): void => {
  for (const states of seen) {
    if (transport === 'sse') expect(states).toEqual(LIFECYCLE);
    else {
      expect(states).toEqual(LIFECYCLE.filter((status) => states.includes(status)));
      expect([states[0], states.at(-1)]).toEqual(['pending', 'completed']);
    }
  }
};
