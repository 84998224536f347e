import {
  Inject,
  Injectable,
  Logger,
  Optional,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import { JobWatches } from '../deadlines/job-watches.js';
import { uuidOf, type ClientKey } from '../domain/client.js';
import { type Job } from '../domain/job.js';
import { DomainError } from '../errors/domain-error.js';
import { catchUpPage, type CatchUp } from '../events/catch-up.js';
import { JOB_EVENTS, type JobEvent, type JobEvents } from '../events/job-events.js';
import { JobsService } from '../jobs/jobs.service.js';
import { shortClient } from '../logging/redact.js';
import { AppMetrics } from '../metrics/app-metrics.js';
import { type OpenStreams } from './open-streams.js';
import { SseConnection } from './sse-connection.js';
import { formatSse, type SseMessage } from './sse-format.js';
import { type SseResponse, type SseSocket } from './sse-response.js';

/**
 * Heartbeats go out in turns: the streams are split into this many groups, one group per
 * `HEARTBEAT_MS / HEARTBEAT_GROUPS`, so each stream still gets one every HEARTBEAT_MS but 10,000
 * streams never take one long burst of writes that holds every event back (issue 6).
 */
const HEARTBEAT_GROUPS = 16;
/** Turns are never shorter than this: with a short HEARTBEAT_MS there are fewer groups. */
const MIN_HEARTBEAT_TURN_MS = 50;

/**
 * Every `job` event, formatted once however many streams of its client receive it (issue 6:
 * serialising per subscriber cost fan-out time). Weak, so it lives as long as the event.
 */
const frames = new WeakMap<JobEvent, string>();

function jobFrame(event: JobEvent): string {
  let frame = frames.get(event);
  if (frame === undefined) {
    frame = formatSse({ id: event.id, event: 'job', data: event.job });
    frames.set(event, frame);
  }
  return frame;
}

/**
 * The event stream of GET /status: one per connection, carrying every job of its client
 * (docs/protocol.md, "The event stream"). It writes to an SseResponse, so that any HTTP adapter
 * can serve it.
 */
@Injectable()
export class StatusStreamService implements OpenStreams, OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(StatusStreamService.name);
  private readonly perClient = new Map<ClientKey, number>();
  /** Streams of every client, counted from the moment their slot is taken. */
  private taken = 0;
  private heartbeat?: NodeJS.Timeout;
  /** Every open stream, by heartbeat turn; a new stream joins the next group, round-robin. */
  private readonly heartbeatGroups: Set<SseConnection>[];
  private nextGroup = 0;
  private shuttingDown = false;

  constructor(
    @Inject(AppConfig) private readonly config: AppConfig,
    @Inject(JOB_EVENTS) private readonly events: JobEvents,
    @Inject(JobsService) private readonly jobs: JobsService,
    @Inject(AppMetrics) private readonly metrics: AppMetrics = new AppMetrics(),
    // Each driver's (JobsModule): an open stream watches its client's jobs.
    @Optional() @Inject(JobWatches) private readonly watches?: JobWatches,
  ) {
    metrics.readAtScrape('openStreams', () => this.openStreams);
    const groups = Math.max(
      1,
      Math.min(HEARTBEAT_GROUPS, Math.floor(config.heartbeatMs / MIN_HEARTBEAT_TURN_MS)),
    );
    this.heartbeatGroups = Array.from({ length: groups }, () => new Set());
  }

  get openStreams(): number {
    return this.heartbeatGroups.reduce((sum, group) => sum + group.size, 0);
  }

  /**
   * Streams the client's jobs. Errors before the stream starts (pipelined, too many streams,
   * shutting down) are thrown, so they are answered as JSON.
   */
  async open(
    res: SseResponse,
    socket: SseSocket,
    clientId: ClientKey,
    lastEventId?: string,
  ): Promise<void> {
    if (this.shuttingDown) throw new DomainError('SHUTTING_DOWN', 'The server is stopping', 1);
    if (res.socket === null) {
      // Node gives a response its socket once every response before it on the connection has
      // ended: a stream queued behind another would hold its slot without ever being sent.
      throw new DomainError(
        'STREAM_PIPELINED',
        'An event stream must not be pipelined behind another request on its connection',
      );
    }
    const retryAfter = Math.max(1, Math.ceil(this.config.streamRetryMs / 1000));
    const count = this.perClient.get(clientId) ?? 0;
    if (count >= this.config.maxStreamsPerClient) {
      throw new DomainError(
        'TOO_MANY_STREAMS',
        `A client may have at most ${this.config.maxStreamsPerClient} open streams`,
        retryAfter,
      );
    }
    if (this.taken >= this.config.maxStreams) {
      throw new DomainError(
        'SERVER_STREAMS_FULL',
        'The server has as many open streams as it can hold; try again later',
        retryAfter,
      );
    }
    if (socket.destroyed) return;
    this.perClient.set(clientId, count + 1);
    this.taken += 1;
    const unwatch = this.watches?.watchAll(clientId);
    const connection = new SseConnection(res, this.config.streamBufferBytes, this.metrics.streams);
    const group = this.heartbeatGroups[this.nextGroup++ % this.heartbeatGroups.length]!;
    group.add(connection);
    // Subscribe before reading the snapshot or the replay, holding live events back until those
    // are sent: an event that happens in between is then neither lost nor sent out of order.
    let held: JobEvent[] | undefined = [];
    // The last event id the opening covered. With Redis, an event can be both in the replay (read
    // on the commands connection) and heard live after it (pub/sub, another connection): it is
    // sent once. Ids grow along a client's events.
    let openedAt = -Infinity;
    const unsubscribe = this.events.subscribe(
      clientId,
      (event) => {
        if (held) held.push(event);
        else if (!(Number(event.id) <= openedAt)) connection.send(jobFrame(event));
      },
      // Redis lost this client's events: the stream ends, and its client reconnects to a snapshot.
      () => connection.end(),
    );
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      socket.removeListener('close', release);
      unsubscribe();
      unwatch?.();
      group.delete(connection);
      this.taken -= 1;
      const left = (this.perClient.get(clientId) ?? 1) - 1;
      if (left > 0) this.perClient.set(clientId, left);
      else this.perClient.delete(clientId);
    };
    // Either is enough: the response's close for a stream that ends while its connection stays,
    // the socket's for one the HTTP layer never closes.
    res.on('close', release);
    socket.once('close', release);
    res.socket?.setKeepAlive(true);

    try {
      const opening = await this.openingBurst(clientId, lastEventId);
      // From here to `held = undefined` runs without a pause, so every event published so far is
      // in `held` and every later one goes straight to the stream.
      opening.add(held);
      openedAt = opening.lastId();
      connection.open(this.config.streamRetryMs, opening.messages);
    } catch (error) {
      // A refusal the client is told about (Redis away, say) is no fault of this server's.
      if (error instanceof DomainError) {
        this.logger.warn(`Stream of client ${shortClient(clientId)} refused: ${error.code}`);
      } else {
        this.logger.error(`Stream of client ${shortClient(clientId)} failed to start`, error);
      }
      if (res.headersSent) res.destroy();
      else throw error;
    } finally {
      held = undefined;
    }
  }

  /**
   * HTTP catch-up (GET /status?after=, issue 19): the client's events after `after`, oldest first,
   * at most `limit` of them. The same replay as a stream's `Last-Event-ID`, so an id from any
   * channel works; one this client cannot resume from (too old, unknown, another client's) is
   * `RESYNC_REQUIRED`: the client reads the jobs afresh instead.
   */
  async catchUp(clientId: ClientKey, after: string, limit: number): Promise<CatchUp> {
    // A catch-up polls every job of the client: it counts as watching them (cancelWhenUnwatched).
    this.watches?.watch(clientId, undefined)();
    // One more than the page: whether there is more to read.
    const events = await this.events.replay(clientId, after, limit + 1);
    if (!events) {
      throw new DomainError(
        'RESYNC_REQUIRED',
        `Event ${after} is not in this client's replay window: read the jobs again (GET /status) and continue from their eventId`,
      );
    }
    return catchUpPage(events, limit);
  }

  /**
   * `connected`, then the snapshot or the replay; `add` appends the events held back meanwhile,
   * skipping what the snapshot or the replay already carried. A method of its own, so that what
   * it builds is not kept alive by the closures of every open stream.
   */
  private async openingBurst(
    clientId: ClientKey,
    lastEventId: string | undefined,
  ): Promise<{ messages: SseMessage[]; add(events: JobEvent[]): void; lastId(): number }> {
    const replay =
      lastEventId === undefined ? undefined : await this.events.replay(clientId, lastEventId);
    const snapshot = replay ? undefined : await this.snapshot(clientId);
    if (lastEventId !== undefined) this.metrics.streamResumed(replay ? 'replay' : 'snapshot');
    const messages: SseMessage[] = [
      {
        event: 'connected',
        data: {
          clientId: uuidOf(clientId),
          heartbeatMs: this.config.heartbeatMs,
          resumed: replay !== undefined,
        },
      },
    ];
    const sent = new Map<number, number>();
    // What the client has once the opening is sent: up to its Last-Event-ID, or the snapshot.
    const position = Number(snapshot ? snapshot.id : lastEventId);
    let lastId = Number.isFinite(position) ? position : -Infinity;
    const add = (events: JobEvent[]): void => {
      for (const { id, job } of events) {
        lastId = Math.max(lastId, Number(id));
        if ((sent.get(job.id) ?? 0) >= job.revision) continue;
        sent.set(job.id, job.revision);
        messages.push({ id, event: 'job', data: job });
      }
    };
    if (snapshot) {
      for (const job of snapshot.jobs) sent.set(job.id, job.revision);
      messages.push({ id: snapshot.id, event: 'snapshot', data: { jobs: snapshot.jobs } });
    } else {
      add(replay ?? []);
    }
    return { messages, add, lastId: () => lastId };
  }

  onModuleInit(): void {
    const groups = this.heartbeatGroups;
    let turn = 0;
    this.heartbeat = setInterval(
      () => {
        const group = groups[turn++ % groups.length]!;
        if (group.size === 0) return;
        // Formatted once for the whole group.
        const frame = formatSse({ event: 'heartbeat', data: { time: new Date().toISOString() } });
        for (const connection of group) connection.beat(frame);
      },
      // Rounded down: a stream may hear a heartbeat a few ms early, never late.
      Math.floor(this.config.heartbeatMs / groups.length),
    );
    this.heartbeat.unref();
  }

  /**
   * Ends every stream when the server stops, so clients reconnect elsewhere or later: in the first
   * round of hooks, before any slow one (the runner's hand-over waits up to 3 s for a Redis that
   * does not answer, review of 2026-12-01).
   */
  onModuleDestroy(): void {
    this.shuttingDown = true;
    clearInterval(this.heartbeat);
    for (const group of this.heartbeatGroups) for (const connection of group) connection.end();
  }

  /** Every job of the client, and the stream position they stand for. */
  private async snapshot(clientId: ClientKey): Promise<{ id: string; jobs: Job[] }> {
    // The position first: every event up to it is already in the store, so the jobs read next
    // reflect at least that much.
    const id = await this.events.head(clientId);
    return { id, jobs: await this.jobs.list(clientId) };
  }
}
