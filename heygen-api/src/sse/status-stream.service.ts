import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { type Request, type Response } from 'express';
import { AppConfig } from '../config/app-config.js';
import { DomainError } from '../errors/domain-error.js';
import { JOB_EVENTS, type JobEvent, type JobEvents } from '../events/job-events.js';
import { type Job } from '../jobs/job.js';
import { JobsService } from '../jobs/jobs.service.js';
import { SseConnection } from './sse-connection.js';
import { type SseMessage } from './sse-format.js';

/**
 * Serves GET /status as an event stream: one per connection, carrying every job of its client
 * (docs/protocol.md, "The event stream").
 */
@Injectable()
export class StatusStreamService
  implements OnModuleInit, OnModuleDestroy, BeforeApplicationShutdown
{
  private readonly logger = new Logger(StatusStreamService.name);
  private readonly connections = new Set<SseConnection>();
  private readonly perClient = new Map<string, number>();
  private heartbeat?: NodeJS.Timeout;
  private shuttingDown = false;

  constructor(
    @Inject(AppConfig) private readonly config: AppConfig,
    @Inject(JOB_EVENTS) private readonly events: JobEvents,
    @Inject(JobsService) private readonly jobs: JobsService,
  ) {}

  /** Open streams, for health and leak checks. */
  get openStreams(): number {
    return this.connections.size;
  }

  /**
   * Streams the client's jobs. Errors before the stream starts (too many streams, shutting down)
   * are thrown, so they are answered as JSON.
   */
  async open(req: Request, res: Response, clientId: string, lastEventId?: string): Promise<void> {
    if (this.shuttingDown) throw new DomainError('SHUTTING_DOWN', 'The server is stopping', 1);
    const count = this.perClient.get(clientId) ?? 0;
    if (count >= this.config.maxStreamsPerClient) {
      throw new DomainError(
        'TOO_MANY_STREAMS',
        `A client may have at most ${this.config.maxStreamsPerClient} open streams`,
        Math.ceil(this.config.streamRetryMs / 1000),
      );
    }
    this.perClient.set(clientId, count + 1);
    const connection = new SseConnection(res, this.config.streamBufferBytes);
    this.connections.add(connection);

    // Subscribe before reading the snapshot or the replay, holding live events back until those
    // are sent: an event that happens in between is then neither lost nor sent out of order.
    let held: JobEvent[] | undefined = [];
    const unsubscribe = this.events.subscribe(clientId, (event) => {
      if (held) held.push(event);
      else connection.send({ id: event.id, event: 'job', data: event.job });
    });
    res.on('close', () => {
      unsubscribe();
      this.connections.delete(connection);
      const left = (this.perClient.get(clientId) ?? 1) - 1;
      if (left > 0) this.perClient.set(clientId, left);
      else this.perClient.delete(clientId);
    });
    req.socket.setKeepAlive(true);

    try {
      const replay =
        lastEventId === undefined ? undefined : await this.events.replay(clientId, lastEventId);
      const snapshot = replay ? undefined : await this.snapshot(clientId);

      const burst: SseMessage[] = [
        {
          event: 'connected',
          data: { clientId, heartbeatMs: this.config.heartbeatMs, resumed: replay !== undefined },
        },
      ];
      // A held event may repeat what the snapshot or the replay already carried.
      const sent = new Map<number, number>();
      const addJob = (id: string, job: Job): void => {
        if ((sent.get(job.id) ?? 0) >= job.revision) return;
        sent.set(job.id, job.revision);
        burst.push({ id, event: 'job', data: job });
      };
      if (snapshot) {
        for (const job of snapshot.jobs) sent.set(job.id, job.revision);
        burst.push({ id: snapshot.id, event: 'snapshot', data: { jobs: snapshot.jobs } });
      } else {
        for (const event of replay ?? []) addJob(event.id, event.job);
      }
      for (const event of held) addJob(event.id, event.job);
      connection.open(this.config.streamRetryMs, burst);
    } catch (error) {
      this.logger.error(`Stream of client ${clientId} failed to start`, error);
      if (res.headersSent) res.destroy();
      else throw error;
    } finally {
      held = undefined;
    }
  }

  onModuleInit(): void {
    this.heartbeat = setInterval(() => {
      const message = { event: 'heartbeat', data: { time: new Date().toISOString() } };
      for (const connection of this.connections) connection.send(message);
    }, this.config.heartbeatMs);
    this.heartbeat.unref();
  }

  /** Ends every stream when the server stops, so clients reconnect elsewhere or later. */
  beforeApplicationShutdown(): void {
    this.shuttingDown = true;
    for (const connection of this.connections) connection.end();
  }

  onModuleDestroy(): void {
    clearInterval(this.heartbeat);
  }

  /** Every job of the client, and the stream position they stand for. */
  private async snapshot(clientId: string): Promise<{ id: string; jobs: Job[] }> {
    // The position first: every event up to it is already in the store, so the jobs read next
    // reflect at least that much.
    const id = await this.events.head();
    return { id, jobs: await this.jobs.list(clientId) };
  }
}
