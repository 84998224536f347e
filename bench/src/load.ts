import autocannon from 'autocannon';

export interface LoadOptions {
  url: string;
  connections: number;
  durationS: number;
  /** A first run of this length warms the route up; only the second is returned. */
  warmUpS: number;
  /** The one request connection `index` sends, again and again: one client per connection. */
  requestFor: (index: number) => autocannon.Request;
}

/**
 * autocannon as scenarios 3 and 11 drive it: a static request per connection (which keeps
 * autocannon cheap), an optional warm-up run, then the measured run.
 */
export async function measureLoad({
  url,
  connections,
  durationS,
  warmUpS,
  requestFor,
}: LoadOptions): Promise<autocannon.Result> {
  let next = 0;
  const run = (seconds: number): Promise<autocannon.Result> =>
    autocannon({
      url,
      connections,
      duration: seconds,
      setupClient: (client) => client.setRequests([requestFor(next++ % connections)]),
    });
  if (warmUpS > 0) await run(warmUpS);
  next = 0;
  return run(durationS);
}
