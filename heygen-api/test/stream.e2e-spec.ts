import { describe, expect, it, vi } from 'vitest';
import { JOB_EVENTS, type JobEvents } from '../src/events/job-events.js';
import { StatusStreamService } from '../src/sse/status-stream.service.js';
import {
  isFinished,
  ISO_TIME,
  openSse,
  RecordingEventSource,
  type Job,
  type RawSseStream,
  type SseEvent,
} from 'heygen-test-support';
import { JobsClient } from './support/jobs-client.js';
import { startServer, type TestServer } from './support/server.js';
import { describeEachAdapter } from './support/adapters.js';

const RETRY_MS = 50;
const ENV = {
  JOB_TIME: '300',
  PROGRESS_INTERVAL_MS: '20',
  STREAM_RETRY_MS: String(RETRY_MS),
  // Quiet by default, so raw reads see only what a test is about; the heartbeat test lowers it.
  HEARTBEAT_MS: '60000',
};

interface Connected {
  clientId: string;
  heartbeatMs: number;
  resumed: boolean;
}

async function setUp(env: Record<string, string> = {}): Promise<{
  server: TestServer;
  client: JobsClient;
}> {
  const server = await startServer({ ...ENV, ...env });
  return { server, client: new JobsClient(server.url) };
}

/** Reads `job` events until `jobId` reaches a finished state; fails on any other named event. */
async function readJobUntilFinished(stream: RawSseStream, jobId: number): Promise<SseEvent<Job>[]> {
  const events: SseEvent<Job>[] = [];
  for (;;) {
    const event = await stream.nextNonHeartbeat();
    expect(event.event).toBe('job');
    const job = event as SseEvent<Job>;
    events.push(job);
    if (job.data.id === jobId && isFinished(job.data)) return events;
  }
}

/**
 * Event ids are opaque but grow along the stream; the server's are decimal, so they are compared
 * as numbers when they all look like numbers, else as strings.
 */
function expectGrowing(ids: (string | undefined)[]): void {
  expect(ids.every((id) => id !== undefined && id !== '')).toBe(true);
  const numeric = ids.every((id) => /^\d+$/.test(id ?? ''));
  const key = (id: string | undefined): bigint | string =>
    numeric ? BigInt(id ?? '0') : (id ?? '');
  for (let i = 1; i < ids.length; i++) expect(key(ids[i]) > key(ids[i - 1])).toBe(true);
}

/** Fails unless the revisions are exactly `from`, `from + 1`, … (nothing lost, nothing doubled). */
function expectContiguousRevisions(jobs: Job[], from: number): void {
  expect(jobs.map((job) => job.revision)).toEqual(jobs.map((_, i) => from + i));
}

describeEachAdapter(() => {
  describe('GET /status (event stream) over raw HTTP', () => {
    it('should answer with the SSE headers, then a retry field, then connected', async () => {
      const { client } = await setUp();

      const stream = await openSse(client.url('/status'));
      const first = await stream.next();
      const second = await stream.next();

      expect(stream.status).toBe(200);
      expect(stream.headers['content-type']).toMatch(/^text\/event-stream/);
      expect(stream.headers['cache-control']).toBe('no-cache, no-transform');
      expect(stream.headers.connection).toBe('keep-alive');
      expect(stream.headers['x-accel-buffering']).toBe('no');
      expect(first).toEqual({ retry: RETRY_MS });
      expect(second.event).toBe('connected');
      expect(second.id).toBeUndefined();
      expect(JSON.parse(second.data ?? '')).toEqual({
        clientId: client.clientId,
        heartbeatMs: 60000,
        resumed: false,
      });
    });

    it('should send a snapshot with unfinished jobs and one that completed before connecting', async () => {
      const { client } = await setUp();
      const done = await client.createOk({ duration: 0 });
      const completed = await client.waitFor(done.id, isFinished);
      const running = await client.createOk({ duration: 5000 });

      const stream = await openSse(client.url('/status'));
      await stream.nextEvent('connected');
      const snapshot = await stream.nextNonHeartbeat();

      expect(snapshot.event).toBe('snapshot');
      expect(snapshot.id).toMatch(/.+/);
      const { jobs } = snapshot.data as { jobs: Job[] };
      expect(jobs.map((job) => job.id)).toEqual([done.id, running.id]);
      expect(jobs[0]).toEqual(completed);
      expect(jobs[0]).toMatchObject({ status: 'completed', progress: 100 });
      expect(jobs[1]?.status).not.toBe('completed');
    });

    it('should stream a job from creation to completion with growing revisions and ids', async () => {
      const { client } = await setUp();
      const stream = await openSse(client.url('/status'));
      const snapshot = await stream.nextEvent('snapshot');

      const created = await client.createOk({ duration: 300 });
      const events = await readJobUntilFinished(stream, created.id);

      const jobs = events.map((event) => event.data);
      expect(jobs[0]).toEqual(created);
      expect(jobs.map((job) => job.status)).toEqual([
        'pending',
        ...jobs.slice(1, -1).map(() => 'running'),
        'completed',
      ]);
      expect(jobs.length).toBeGreaterThan(3);
      expectContiguousRevisions(jobs, 1);
      expectGrowing([snapshot.id, ...events.map((event) => event.id)]);
      const progress = jobs.map((job) => job.progress);
      expect(progress).toEqual([...progress].sort((a, b) => a - b));
      expect(jobs.at(-1)).toMatchObject({ status: 'completed', progress: 100 });
      expect(jobs.at(-1)?.finishedAt).toMatch(ISO_TIME);
      expect(await client.status(created.id).then((res) => res.body)).toEqual(jobs.at(-1));
    });

    it('should stream failures and cancellations as terminal job events', async () => {
      const { client } = await setUp();
      const stream = await openSse(client.url('/status'));
      await stream.nextEvent('snapshot');

      const failing = await client.createOk({ duration: 50, fail: true });
      const failed = (await readJobUntilFinished(stream, failing.id)).at(-1)?.data;
      const long = await client.createOk({ duration: 5000 });
      await stream.nextEvent('job');
      await client.cancel(long.id);
      const cancelled = (await readJobUntilFinished(stream, long.id)).at(-1)?.data;

      expect(failed).toMatchObject({ status: 'failed', error: { code: 'SIMULATED_FAILURE' } });
      expect(cancelled).toMatchObject({ id: long.id, status: 'cancelled' });
    });

    it('should replay every missed event in order after a forced disconnect, without a snapshot', async () => {
      const { client } = await setUp();
      const first = await openSse(client.url('/status'));
      await first.nextEvent('snapshot');
      const job = await client.createOk({ duration: 400 });
      const seen: Job[] = [];
      let lastEventId: string | undefined;
      for (;;) {
        const { id, data } = await first.nextEvent<Job>('job');
        seen.push(data);
        lastEventId = id;
        if (data.status === 'running' && data.progress > 0) break;
      }

      first.destroy();
      await client.waitFor(job.id, isFinished);
      const second = await openSse(client.url('/status'), { 'Last-Event-ID': lastEventId ?? '' });
      expect(await second.next()).toEqual({ retry: RETRY_MS });
      const connected = await second.nextEvent<Connected>('connected');
      const missed = await readJobUntilFinished(second, job.id);

      expect(connected.data.resumed).toBe(true);
      const jobs = [...seen, ...missed.map((event) => event.data)];
      expectContiguousRevisions(jobs, 1);
      expect(jobs.at(-1)?.status).toBe('completed');
      expectGrowing([lastEventId, ...missed.map((event) => event.id)]);
      expect(second.frames.some((frame) => frame.event === 'snapshot')).toBe(false);
    });

    it('should send an event once when it comes both in the replay and live after it (redis: two connections)', async () => {
      const { server, client } = await setUp();
      const first = await openSse(client.url('/status'));
      const { id: position } = await first.nextEvent('snapshot');
      first.destroy();
      const job = await client.createOk({ duration: 0 });
      await client.waitFor(job.id, isFinished);
      // As with Redis: the replay's reply comes first, and the same events then come by pub/sub.
      const events = server.app.get<JobEvents>(JOB_EVENTS);
      const subscribe = events.subscribe.bind(events);
      const replay = events.replay.bind(events);
      const listeners: Parameters<JobEvents['subscribe']>[1][] = [];
      events.subscribe = (clientId, listener) => {
        listeners.push(listener);
        return subscribe(clientId, listener);
      };
      events.replay = async (clientId, after) => {
        const replayed = await replay(clientId, after);
        setImmediate(() => {
          for (const event of replayed ?? []) for (const listener of listeners) listener(event);
        });
        return replayed;
      };

      const second = await openSse(client.url('/status'), { 'Last-Event-ID': position ?? '' });
      await second.nextEvent('connected');
      const replayed = await readJobUntilFinished(second, job.id);
      const late = await second.nextNonHeartbeat(300).catch(() => undefined);

      expect(replayed.length).toBeGreaterThan(1);
      expect(late).toBeUndefined();
      second.destroy();
    });

    it('should resume from the lastEventId query parameter as from the header', async () => {
      const { client } = await setUp();
      const first = await openSse(client.url('/status'));
      const { id: position } = await first.nextEvent('snapshot');
      first.destroy();
      const job = await client.createOk({ duration: 0 });
      await client.waitFor(job.id, isFinished);

      const second = await openSse(client.url('/status', { lastEventId: position ?? '' }));
      const connected = await second.nextEvent<Connected>('connected');
      const missed = await readJobUntilFinished(second, job.id);

      expect(connected.data.resumed).toBe(true);
      expectContiguousRevisions(
        missed.map((event) => event.data),
        1,
      );
    });

    it('should prefer the Last-Event-ID header over the query parameter', async () => {
      const { client } = await setUp();
      const first = await openSse(client.url('/status'));
      const { id: position } = await first.nextEvent('snapshot');

      const headerWins = await openSse(client.url('/status', { lastEventId: 'garbage' }), {
        'Last-Event-ID': position ?? '',
      });
      const queryLoses = await openSse(client.url('/status', { lastEventId: position ?? '' }), {
        'Last-Event-ID': 'garbage',
      });

      expect((await headerWins.nextEvent<Connected>('connected')).data.resumed).toBe(true);
      expect((await queryLoses.nextEvent<Connected>('connected')).data.resumed).toBe(false);
      expect((await queryLoses.nextNonHeartbeat()).event).toBe('snapshot');
    });

    it.each([
      ['malformed', 'not-an-id'],
      ['unknown (from the future)', '999999999'],
      ['empty', ''],
    ])('should send a snapshot for a %s Last-Event-ID', async (_, lastEventId) => {
      const { client } = await setUp();
      const job = await client.createOk({ duration: 5000 });

      const stream = await openSse(client.url('/status'), { 'Last-Event-ID': lastEventId });
      const connected = await stream.nextEvent<Connected>('connected');
      const snapshot = await stream.nextNonHeartbeat();

      expect(connected.data.resumed).toBe(false);
      expect(snapshot.event).toBe('snapshot');
      expect((snapshot.data as { jobs: Job[] }).jobs.map((j) => j.id)).toEqual([job.id]);
    });

    it('should send a snapshot for a Last-Event-ID older than the replay log', async () => {
      const { client } = await setUp({ REPLAY_LOG_SIZE: '3' });
      const first = await openSse(client.url('/status'));
      const { id: position } = await first.nextEvent('snapshot');
      first.destroy();
      const job = await client.createOk({ duration: 200 });
      const completed = await client.waitFor(job.id, isFinished);

      const second = await openSse(client.url('/status'), { 'Last-Event-ID': position ?? '' });
      const connected = await second.nextEvent<Connected>('connected');
      const snapshot = await second.nextNonHeartbeat();

      expect(connected.data.resumed).toBe(false);
      expect(snapshot.event).toBe('snapshot');
      expect(snapshot.data).toEqual({ jobs: [completed] });
    });

    it('should free the subscription and the stream slot when the client disconnects', async () => {
      const { server, client } = await setUp();
      const streams = server.app.get(StatusStreamService);
      const events = server.app.get<symbol, JobEvents>(JOB_EVENTS);
      const raw = [await openSse(client.url('/status')), await openSse(client.url('/status'))];
      const es = new RecordingEventSource(client.url('/status'));
      await Promise.all(raw.map((stream) => stream.nextEvent('connected')));
      await es.waitFor('connected');
      expect(streams.openStreams).toBe(3);
      expect(events.subscriptionCount()).toBe(3);

      raw[0]?.destroy();
      raw[1]?.destroy();
      es.close();

      await vi.waitFor(() => {
        expect(streams.openStreams).toBe(0);
        expect(events.subscriptionCount()).toBe(0);
      });
    });

    it('should drop a reader too slow to keep up, and free its resources', async () => {
      const { server, client } = await setUp({
        STREAM_BUFFER_BYTES: '1024',
        PROGRESS_INTERVAL_MS: '10',
        MAX_ACTIVE_JOBS_PER_CLIENT: '100000',
      });
      const streams = server.app.get(StatusStreamService);
      const events = server.app.get<symbol, JobEvents>(JOB_EVENTS);
      const slow = await openSse(client.url('/status'));
      await slow.nextEvent('snapshot');
      slow.pause();
      const other = await openSse(new JobsClient(server.url).url('/status'));
      await other.nextEvent('snapshot');

      // Far more than the socket buffers hold while nobody reads: each job makes ~100 events.
      const flood = async (): Promise<void> => {
        await Promise.all(Array.from({ length: 50 }, () => client.createOk({ duration: 1000 })));
      };
      await vi.waitFor(
        async () => {
          if (streams.openStreams > 1) await flood();
          expect(streams.openStreams).toBe(1);
        },
        { timeout: 20_000, interval: 200 },
      );

      expect(events.subscriptionCount()).toBe(1);
      expect(other.isClosed).toBe(false);
      slow.resume();
      await slow.ended;
      expectGrowing(slow.frames.filter((frame) => frame.id !== undefined).map((frame) => frame.id));
    });

    it('should replay to a reconnecting reader more than STREAM_BUFFER_BYTES of missed events', async () => {
      const { client } = await setUp({ STREAM_BUFFER_BYTES: '1024' });
      const first = await openSse(client.url('/status'));
      const { id: position } = await first.nextEvent('snapshot');
      first.destroy();
      const jobs = await Promise.all(
        Array.from({ length: 10 }, () => client.createOk({ duration: 0 })),
      );
      for (const job of jobs) await client.waitFor(job.id, isFinished);

      // A client that missed this much must still be able to catch up, or it would reconnect forever.
      const second = await openSse(client.url('/status'), { 'Last-Event-ID': position ?? '' });
      const connected = await second.nextEvent<Connected>('connected');
      const finished = new Set<number>();
      while (finished.size < jobs.length) {
        const { data } = await second.nextEvent<Job>('job');
        if (isFinished(data)) finished.add(data.id);
      }

      expect(connected.data.resumed).toBe(true);
    });

    it('should send a snapshot larger than STREAM_BUFFER_BYTES to a reader that keeps up', async () => {
      const { client } = await setUp({ STREAM_BUFFER_BYTES: '1024' });
      await Promise.all(Array.from({ length: 10 }, () => client.createOk({ duration: 5000 })));

      const stream = await openSse(client.url('/status'));
      const snapshot = await stream.nextEvent<{ jobs: Job[] }>('snapshot');

      expect(snapshot.data.jobs).toHaveLength(10);
    });

    it('should end every open stream when the app closes', async () => {
      const { server, client } = await setUp();
      const stream = await openSse(client.url('/status'));
      await stream.nextEvent('snapshot');
      const es = new RecordingEventSource(client.url('/status'));
      await es.waitFor('snapshot');

      await server.close();

      await stream.ended;
      expect(stream.isClosed).toBe(true);
      await vi.waitFor(() => expect(es.errors).toBeGreaterThan(0));
    });
  });

  describe('GET /status (event stream) with the eventsource package', () => {
    it('should deliver connected, the snapshot and live job events through completion', async () => {
      const { client } = await setUp();
      const done = await client.createOk({ duration: 0 });
      await client.waitFor(done.id, isFinished);
      const es = new RecordingEventSource(client.url('/status'));
      const snapshot = await es.waitFor<{ jobs: Job[] }>('snapshot');

      const job = await client.createOk({ duration: 200 });
      await es.waitFor<Job>('job', (event) => event.data.id === job.id && isFinished(event.data));

      const connected = es.ofType<Connected>('connected');
      expect(connected).toHaveLength(1);
      expect(connected[0]?.data).toMatchObject({ clientId: client.clientId, resumed: false });
      expect(es.received[0]?.type).toBe('connected');
      expect(es.received[1]?.type).toBe('snapshot');
      expect(snapshot.data.jobs.map((j) => j.id)).toEqual([done.id]);
      expect(snapshot.data.jobs[0]?.status).toBe('completed');
      const jobs = es.ofType<Job>('job');
      expectContiguousRevisions(
        jobs.map((event) => event.data),
        1,
      );
      expectGrowing([snapshot.lastEventId, ...jobs.map((event) => event.lastEventId)]);
      expect(jobs.at(-1)?.data).toMatchObject({ status: 'completed', progress: 100 });
    });

    it('should deliver heartbeats without an id, so a resume after them still replays', async () => {
      const { server, client } = await setUp({ HEARTBEAT_MS: '100' });
      const es = new RecordingEventSource(client.url('/status'));
      await es.waitFor('snapshot');
      const job = await client.createOk({ duration: 0 });
      await es.waitFor<Job>('job', (event) => isFinished(event.data));
      const seenBefore = es.received.length;

      await vi.waitFor(() => {
        const beats = es.received.slice(seenBefore).filter((event) => event.type === 'heartbeat');
        expect(beats.length).toBeGreaterThanOrEqual(2);
      });
      server.destroyConnections();
      const connected = await es.waitFor<Connected>('connected', (event) => event.data.resumed);

      expect(es.ofType<Connected>('connected')[0]?.data.heartbeatMs).toBe(100);
      for (const beat of es.ofType<{ time: string }>('heartbeat')) {
        expect(beat.data.time).toMatch(ISO_TIME);
        // The eventsource package reports the event's own id here: '' means no `id:` field.
        expect(beat.lastEventId).toBe('');
      }
      expect(connected.data.resumed).toBe(true);
      expect(es.ofType('snapshot')).toHaveLength(1);
      expect(
        es
          .ofType<Job>('job')
          .filter((event) => event.data.id === job.id)
          .at(-1)?.data.status,
      ).toBe('completed');
    });

    it('should send raw heartbeat frames with an event name and data but no id', async () => {
      const { client } = await setUp({ HEARTBEAT_MS: '100' });
      const stream = await openSse(client.url('/status'));

      const beat = await stream.nextEvent<{ time: string }>('heartbeat');

      expect(beat.id).toBeUndefined();
      expect(beat.data.time).toMatch(ISO_TIME);
    });

    it('should reconnect after a network drop and be replayed what it missed', async () => {
      const { server, client } = await setUp();
      const es = new RecordingEventSource(client.url('/status'));
      await es.waitFor('snapshot');
      const job = await client.createOk({ duration: 400 });
      await es.waitFor<Job>('job', (event) => event.data.progress > 0);

      server.destroyConnections();
      await es.waitFor<Connected>('connected', (event) => event.data.resumed);
      await es.waitFor<Job>('job', (event) => event.data.id === job.id && isFinished(event.data));

      expect(es.opens).toBe(2);
      expect(es.ofType('snapshot')).toHaveLength(1);
      expectContiguousRevisions(
        es.ofType<Job>('job').map((event) => event.data),
        1,
      );
      expect(es.ofType<Job>('job').at(-1)?.data.status).toBe('completed');
    });

    it('should be refused with a failed connection past MAX_STREAMS_PER_CLIENT', async () => {
      const { client } = await setUp({ MAX_STREAMS_PER_CLIENT: '1' });
      const first = new RecordingEventSource(client.url('/status'));
      await first.waitFor('connected');

      const second = new RecordingEventSource(client.url('/status'));

      await vi.waitFor(() => expect(second.errors).toBeGreaterThan(0));
      expect(second.received).toEqual([]);
      expect(second.source.readyState).toBe(second.source.CLOSED);
    });
  });
});
