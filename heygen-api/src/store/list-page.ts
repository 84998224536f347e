/**
 * A page of the list of all a client's jobs (`GET /status?limit=&startingAfter=`, parsed in
 * jobs/job-list-page.ts): the jobs after `startingAfter` by id, oldest first, at most `limit` of
 * them. The stores cut it before they build the records: a page of 100 among 2,000 jobs built all
 * 2,000 (22 ms) when the service cut it.
 */
export interface ListPage {
  limit: number | undefined;
  startingAfter: number | undefined;
}

/** One page of `all` (oldest first, each with its job id): its items, and whether more follow. */
export function pageOf<T>(
  all: readonly T[],
  { limit, startingAfter }: ListPage,
  idOf: (item: T) => number,
): { page: T[]; more: boolean } {
  const after =
    startingAfter === undefined ? all : all.filter((item) => idOf(item) > startingAfter);
  const page = after.slice(0, limit ?? after.length);
  return { page, more: after.length > page.length };
}
