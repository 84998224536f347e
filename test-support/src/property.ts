import { type Parameters } from 'fast-check';

/**
 * How every property suite runs (issue 13): at least 1,000 cases, on a seed that is printed with
 * the shrunk counter-example when a property fails. `FC_SEED=<seed>` (and `FC_PATH=<path>` from
 * the failure report) replays that exact run; without them each run draws a new seed, so CI keeps
 * exploring instead of re-checking the same cases forever.
 */
export function propertyParameters<T>(numRuns = 1000): Parameters<T> {
  const seed = process.env.FC_SEED;
  const path = process.env.FC_PATH;
  return {
    numRuns,
    ...(seed !== undefined && seed !== '' && { seed: Number(seed) }),
    ...(path !== undefined && path !== '' && { path }),
    // The report names the seed and path to replay, and the smallest failing case.
    verbose: 1,
  };
}
