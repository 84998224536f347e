import { describe, expect, it } from 'vitest';
import { openSse, type Batch, type Job } from 'heygen-test-support';
import { JobsClient } from './support/jobs-client.js';
import { startServer } from './support/server.js';
import { describeEachAdapter } from './support/adapters.js';

interface Fixture {
  alice: JobsClient;
  bob: JobsClient;
  /** Alice's job, which Bob tries to reach. */
  job: Job;
  /** An id nobody owns: Bob's view of Alice's job must be exactly this. */
  nonexistent: number;
}

async function setUp(): Promise<Fixture> {
  const server = await startServer({ JOB_TIME: '5000' });
  const alice = new JobsClient(server.url);
  const bob = new JobsClient(server.url);
  const job = await alice.createOk();
  return { alice, bob, job, nonexistent: job.id + 1000 };
}

/** The same error body, with the id in its message swapped for a placeholder. */
const anonymous = (body: unknown, id: number): unknown =>
  JSON.parse(JSON.stringify(body).replaceAll(String(id), '<id>'));

describeEachAdapter(() => {
  describe('isolation between clients', () => {
    it("should answer Bob's status of Alice's job exactly like a nonexistent job", async () => {
      const { bob, job, nonexistent } = await setUp();

      const foreign = await bob.status(job.id);
      const missing = await bob.status(nonexistent);

      expect(foreign.status).toBe(404);
      expect(foreign.body).toMatchObject({ statusCode: 404, code: 'JOB_NOT_FOUND' });
      expect(anonymous(foreign.body, job.id)).toEqual(anonymous(missing.body, nonexistent));
      expect([...foreign.headers.keys()].sort()).toEqual([...missing.headers.keys()].sort());
    });

    it("should answer Bob's cancel of Alice's job exactly like a nonexistent job, and not cancel it", async () => {
      const { alice, bob, job, nonexistent } = await setUp();

      const foreign = await bob.cancel(job.id);
      const missing = await bob.cancel(nonexistent);

      expect(foreign.status).toBe(404);
      expect(anonymous(foreign.body, job.id)).toEqual(anonymous(missing.body, nonexistent));
      expect((await alice.status(job.id)).body.status).not.toBe('cancelled');
    });

    it("should list Alice's job as missing in Bob's batch, like a nonexistent one", async () => {
      const { bob, job, nonexistent } = await setUp();

      const res = await bob.batch([job.id, nonexistent]);

      expect(res.status).toBe(200);
      expect(res.body).toEqual({ jobs: [], missing: [job.id, nonexistent] });
    });

    it("should leave Alice's jobs out of Bob's full batch", async () => {
      const { bob } = await setUp();
      const own = await bob.createOk();

      const res = await bob.batch();

      expect(res.body.jobs.map((j) => j.id)).toEqual([own.id]);
    });

    it("should keep Alice's jobs out of Bob's stream, snapshot and live events alike", async () => {
      const { alice, bob } = await setUp();
      const stream = await openSse(bob.url('/status'));
      const snapshot = await stream.nextEvent<Batch>('snapshot');

      await alice.createOk({ duration: 50 });
      const own = await bob.createOk({ duration: 50 });
      const events: Job[] = [];
      for (;;) {
        const { data } = await stream.nextEvent<Job>('job');
        events.push(data);
        if (data.status === 'completed') break;
      }

      expect(snapshot.data.jobs).toEqual([]);
      expect(new Set(events.map((job) => job.id))).toEqual(new Set([own.id]));
    });

    it("should not let Bob replay Alice's events with a Last-Event-ID", async () => {
      const { alice, bob } = await setUp();
      const aliceStream = await openSse(alice.url('/status'));
      const { id: start } = await aliceStream.nextEvent('snapshot');
      // Alice's job fails, which none of Bob's does: her events are told from his by that.
      await alice.createOk({ duration: 0, fail: true });
      await aliceStream.nextEvent('job');
      expect(start).toBeDefined();

      // Event ids are per client: Alice's is only a number in Bob's sequence, which holds nothing of
      // hers (Bob gets a snapshot, or an empty replay when the number happens to be his position).
      const stream = await openSse(bob.url('/status'), { 'Last-Event-ID': start ?? '' });
      await stream.nextEvent('connected');
      const own = await bob.createOk({ duration: 0 });
      const first = await stream.nextNonHeartbeat();
      const job = first.event === 'snapshot' ? await stream.nextNonHeartbeat() : first;

      if (first.event === 'snapshot') expect(first.data).toEqual({ jobs: [] });
      expect(job).toMatchObject({ event: 'job', data: { id: own.id, createdAt: own.createdAt } });
      await bob.waitFor(own.id, (j) => j.status === 'completed');
      expect(stream.raw).not.toContain('SIMULATED_FAILURE');
    });
  });
});
