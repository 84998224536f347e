import { randomUUID } from 'node:crypto';
import {
  Inject,
  Injectable,
  Logger,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { type Redis } from 'ioredis';
import { AppConfig } from '../config/app-config.js';
import { type ClientKey } from '../domain/client.js';
import { withEventId, withoutEventId, type Job } from '../domain/job.js';
import { storeUnavailable } from '../errors/domain-error.js';
import { shortClient } from '../logging/redact.js';
import { eventLogKeys, eventLogTtlMs, LUA_APPEND_EVENT, positionsKey } from '../redis/event-log.js';
import { COMMAND_TIMEOUT_MS, RedisConnections } from '../redis/redis-connections.js';
import { LUA_NOW, RedisScript } from '../redis/redis-script.js';
import { retryWhileUnavailable, settlesWithin } from '../redis/redis-unavailable.js';
import { type JobEvent, type JobEventListener, type JobEvents } from './job-events.js';

/**
 * Appends to the client's stream and tells the instances streaming this client (see
 * LUA_APPEND_EVENT). KEYS: stream, head-since, the positions index. ARGV: job JSON, the most
 * entries kept, the least time kept (ms), how much longer the last position is kept (ms), the most
 * positions kept. The store's scripts append a change's event themselves; this is for the rest.
 */
const PUBLISH = new RedisScript(`${LUA_NOW}${LUA_APPEND_EVENT}
return append_event(KEYS[1], KEYS[2], ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), now_ms(), false, tonumber(ARGV[4]), KEYS[3], tonumber(ARGV[5]))
`);

/**
 * Entries one REPLAY script reads at most. A resume of a full log (REPLAY_LOG_SIZE, 10,000 by
 * default) was read in one script: 25–50 ms in which a Redis every instance shares answered
 * nothing else (review of 2026-12-02). A page of 500 is a twentieth of that.
 */
export const REPLAY_PAGE = 500;

/**
 * The client's entries after ARGV[1], the first ARGV[2] of them, or false when:
 * - some later one is no longer kept (it is at or below the last deleted entry);
 * - the id is ahead of the stream;
 * - the stream is gone (but for the client's last position, KEYS[3]: its latest id once its
 *   stream expired, or the head handed out before its first event; see LUA_APPEND_EVENT);
 * - the id is at or below the deployment's event floor (KEYS[2], raised when Redis comes back:
 *   EventWatermark) and its own event is not in the stream: Redis lost it, or was rolled back,
 *   and what the stream holds now is another sequence.
 * The count is Redis's: a page of a long stream reads that page only (a catch-up by `limit=1`
 * read all of 9,000 entries, 30 ms of a Redis every instance shares).
 */
const REPLAY = new RedisScript(`
local S = KEYS[1]
if redis.call('EXISTS', S) == 0 then
  -- No event kept: from the client's last position (KEYS[3], see HEAD), nothing is missed.
  if redis.call('GET', KEYS[3]) == ARGV[1] then return {} end
  return false
end
local info = redis.call('XINFO', 'STREAM', S)
local last, floor
for i = 1, #info, 2 do
  if info[i] == 'last-generated-id' then last = tonumber(string.match(info[i + 1], '^(%d+)')) end
  if info[i] == 'max-deleted-entry-id' then floor = tonumber(string.match(info[i + 1], '^(%d+)')) end
end
local after = tonumber(ARGV[1])
if after < floor or after > last then return false end
local g = tonumber(redis.call('GET', KEYS[2]) or '0')
if after <= g and after ~= floor then
  if #redis.call('XRANGE', S, ARGV[1] .. '-0', ARGV[1] .. '-0') == 0 then return false end
end
return redis.call('XRANGE', S, '(' .. ARGV[1] .. '-0', '+', 'COUNT', ARGV[2])
`);

/**
 * What a subscriber missed during a gap: `[1, entries]`, the client's entries after ARGV[1]; or
 * `[0, newest id]` when the stream no longer holds them all, its floor being past the cursor
 * (review of 2026-12-01: a plain XRANGE skipped what was trimmed, final statuses included, and
 * the stream went on without them). A stream begun afresh has the client's last position for
 * floor (LUA_APPEND_EVENT), so a quiet client whose stream expired in the gap has missed nothing.
 * A stream gone: nothing is kept, and the client's last position is where the cursor is.
 */
const CATCH_UP = new RedisScript(`
local S = KEYS[1]
if redis.call('EXISTS', S) == 0 then return {1, {}} end
local info = redis.call('XINFO', 'STREAM', S)
local floor, last
for i = 1, #info, 2 do
  if info[i] == 'max-deleted-entry-id' then floor = tonumber(string.match(info[i + 1], '^(%d+)')) end
  if info[i] == 'last-generated-id' then last = string.match(info[i + 1], '^(%d+)') end
end
if tonumber(ARGV[1]) < floor then return {0, last} end
return {1, redis.call('XRANGE', S, '(' .. ARGV[1] .. '-0', '+')}
`);

/**
 * The client's latest id; for a client with no stream, its last position (KEYS[2]), or where a
 * fresh one would begin (the clock minus one), remembered there (the earliest such head, for
 * ARGV[1] ms) so that the fresh stream's floor lets it resume.
 */
const HEAD = new RedisScript(`${LUA_NOW}
local newest = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
if newest[1] then return string.match(newest[1][1], '^(%d+)') end
local head = fmt(now_ms() - 1)
redis.call('SET', KEYS[2], head, 'NX', 'PX', ARGV[1])
return redis.call('GET', KEYS[2])
`);

/**
 * Raises the deployment's event floor (KEYS[1]) to ARGV[1], never lowers it, and answers the
 * dataset's epoch (KEYS[2]): ARGV[2] if there was none, a Redis that lost its data, or began.
 */
const RAISE_FLOOR = new RedisScript(`
local floor = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > floor then redis.call('SET', KEYS[1], ARGV[1]) end
if redis.call('SET', KEYS[2], ARGV[2], 'NX') then return ARGV[2] end
return redis.call('GET', KEYS[2])
`);

/** How long a reconnect tries to raise the floor before it catches up all the same. */
const RAISE_FLOOR_MS = 10_000;

type StreamEntry = [id: string, fields: string[]];

/** The subscriptions of one client in this instance. */
interface ClientSubscription {
  listeners: Set<JobEventListener>;
  /** What each subscription does when the client's events may have been lost (see subscribe). */
  lost: Set<() => void>;
  /** The last id delivered here: later copies of it or of anything before are dropped. */
  cursor: number;
  /** Settles once Redis confirms the channel: from then on, no publish is missed. */
  ready: Promise<void>;
  /** `ready` has settled. */
  subscribed: boolean;
  /** Set while a gap (a lost connection) is being read back from the stream. */
  backlog?: JobEvent[];
  /** Gaps (lost connections) not read back yet; one reading covers every gap before it. */
  gaps: number;
  catchingUp: boolean;
}

/**
 * Events in Redis, shared by every instance (JOBS_DRIVER=redis): one Redis Stream per client is its
 * ordered, replayable log, so an id handed out by any instance resumes on any other; live delivery
 * is pub/sub on one channel per client, subscribed only by instances streaming that client
 * (docs/design.md, "Events: a Redis Stream per client").
 */
@Injectable()
export class RedisJobEvents implements JobEvents, OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(RedisJobEvents.name);
  private readonly clients = new Map<ClientKey, ClientSubscription>();
  private readonly byChannel = new Map<string, ClientKey>();
  private subscriber?: Redis;
  /** The subscriber lost its connection and has not got it back: Redis is away. */
  private subscriberLost = false;
  private subscriptions = 0;
  private destroyed = false;
  /**
   * The dataset's epoch as this instance last read it (see RAISE_FLOOR): another one after a
   * reconnect means Redis lost its data, and with it every client's events.
   */
  private epoch: string | undefined;

  constructor(
    @Inject(AppConfig) private readonly config: AppConfig,
    @Inject(RedisConnections) private readonly redis: RedisConnections,
  ) {}

  onModuleInit(): void {
    this.subscriber = this.redis.open('events', {
      // Commands wait while Redis is away and run once it is back (resubscribed by ioredis).
      maxRetriesPerRequest: null,
    });
    this.subscriber.on('message', (channel: string, message: string) =>
      this.onMessage(channel, message),
    );
    let connectedBefore = false;
    this.subscriber.on('ready', () => {
      this.subscriberLost = false;
      if (connectedBefore) this.reconnected();
      connectedBefore = true;
    });
    this.subscriber.on('close', () => {
      this.subscriberLost = connectedBefore;
    });
    // The dataset's epoch as it is now: a reconnect that finds another one saw Redis lose it.
    void this.raiseFloor();
  }

  /**
   * After a lost connection, what was published meanwhile is read back from each stream. Live
   * messages are held from now on, and the gap is read once a PING sent behind ioredis's own
   * SUBSCRIBE of every channel is answered: then each publish is either live or in the stream.
   * First, the deployment's event floor is raised to the highest id this instance knows: Redis may
   * have come back without its data, or older (docs/design.md, "When Redis loses its data").
   */
  private reconnected(): void {
    // A client still subscribing reads its position after it (open), so has no gap.
    const clients = [...this.clients].filter(([, client]) => client.subscribed);
    for (const [, client] of clients) client.backlog ??= [];
    this.subscriber!.ping()
      .then(async () => {
        const lostAll = await this.raiseFloor();
        for (const [clientId, client] of clients) void this.catchUp(clientId, client, lostAll);
      })
      // Lost again: the next 'ready' catches up, and releases what is held.
      .catch(() => {});
  }

  /**
   * Raises the event floor to this instance's watermark, and tells whether Redis lost its data
   * (the epoch changed). Bounded: a Redis that refuses writes (memory full) delays no catch-up
   * for long; the floor then stays where it was, and nothing is taken as lost.
   */
  private async raiseFloor(): Promise<boolean> {
    const until = Date.now() + RAISE_FLOOR_MS;
    const candidate = randomUUID();
    try {
      const epoch = (await retryWhileUnavailable(
        () =>
          RAISE_FLOOR.run(
            this.redis.command,
            [this.floorKey(), `${this.redis.prefix}events:epoch`],
            [this.redis.watermark.value, candidate],
          ),
        () => !this.destroyed && Date.now() < until,
      )) as string;
      const lost = this.epoch !== undefined && epoch !== this.epoch;
      this.epoch = epoch;
      return lost;
    } catch {
      return false;
    }
  }

  async publish(clientId: ClientKey, job: Job): Promise<JobEvent> {
    const keys = [...eventLogKeys(this.redis.prefix, clientId), positionsKey(this.redis.prefix)];
    const id = (await PUBLISH.run(this.redis.command, keys, [
      JSON.stringify(withoutEventId(job)),
      this.config.replayLogSize,
      eventLogTtlMs(this.config.retentionMs),
      this.config.positionRetentionMs,
      this.config.maxRetainedPositions,
    ])) as string;
    this.redis.watermark.saw(id);
    return { id, clientId, job: withEventId(job, id) };
  }

  subscribe(clientId: ClientKey, listener: JobEventListener, lost?: () => void): () => void {
    const client = this.clients.get(clientId) ?? this.open(clientId);
    const subscription: JobEventListener = (event) => listener(event);
    // Its own function, so that two subscriptions passing the same one are told apart.
    const onLost = (): void => lost?.();
    client.listeners.add(subscription);
    client.lost.add(onLost);
    this.subscriptions += 1;
    let active = true;
    return () => {
      if (!active) return;
      active = false;
      this.subscriptions -= 1;
      client.listeners.delete(subscription);
      client.lost.delete(onLost);
      if (client.listeners.size > 0 || this.clients.get(clientId) !== client) return;
      this.clients.delete(clientId);
      const channel = this.streamKey(clientId);
      this.byChannel.delete(channel);
      this.subscriber?.unsubscribe(channel).catch(() => {});
    };
  }

  /**
   * Read in pages of REPLAY_PAGE, each checked as the first is: a later page that finds its start
   * trimmed away meanwhile (the log overtaken during the replay) answers `undefined`, a resync.
   */
  async replay(
    clientId: ClientKey,
    afterId: string,
    limit = Infinity,
  ): Promise<JobEvent[] | undefined> {
    // Read after the subscription is live: an event is then either in the replay or delivered.
    await this.subscribed(clientId);
    if (!/^\d{1,16}$/.test(afterId)) return undefined;
    const events: JobEvent[] = [];
    for (let after = afterId; ; after = events[events.length - 1]!.id) {
      const count = Math.min(REPLAY_PAGE, limit - events.length);
      const entries = (await REPLAY.run(
        this.redis.command,
        [this.streamKey(clientId), this.floorKey(), this.headSinceKey(clientId)],
        [after, count],
      )) as StreamEntry[] | null;
      if (!entries) return undefined;
      for (const entry of entries) events.push(this.toEvent(clientId, entry));
      if (entries.length < count || events.length >= limit) return events;
    }
  }

  async head(clientId: ClientKey): Promise<string> {
    await this.subscribed(clientId);
    const head = (await HEAD.run(
      this.redis.command,
      [this.streamKey(clientId), this.headSinceKey(clientId)],
      [this.headSinceMs()],
    )) as string;
    this.redis.watermark.saw(head);
    return head;
  }

  subscriptionCount(): number {
    return this.subscriptions;
  }

  onModuleDestroy(): void {
    this.destroyed = true;
    this.clients.clear();
    this.byChannel.clear();
  }

  /**
   * Waits for Redis to confirm the client's subscription, at most COMMAND_TIMEOUT_MS, and not at
   * all while the subscriber has lost its connection: the stream is refused (STORE_UNAVAILABLE)
   * rather than left hanging.
   */
  private async subscribed(clientId: ClientKey): Promise<void> {
    const client = this.clients.get(clientId);
    if (!client || client.subscribed) return;
    if (this.subscriberLost) throw storeUnavailable();
    if (!(await settlesWithin(client.ready, COMMAND_TIMEOUT_MS))) throw storeUnavailable();
  }

  private open(clientId: ClientKey): ClientSubscription {
    const channel = this.streamKey(clientId);
    const client: ClientSubscription = {
      listeners: new Set(),
      lost: new Set(),
      cursor: 0,
      ready: Promise.resolve(),
      subscribed: false,
      gaps: 0,
      catchingUp: false,
    };
    client.ready = (async () => {
      try {
        // Waits out an outage: the subscriber queues commands until it is connected again.
        await this.subscriber!.subscribe(channel);
        const head = (await retryWhileUnavailable(
          () =>
            HEAD.run(
              this.redis.command,
              [channel, this.headSinceKey(clientId)],
              [this.headSinceMs()],
            ),
          () => this.clients.get(clientId) === client,
        )) as string;
        client.cursor = Math.max(client.cursor, Number(head));
      } catch (error) {
        // The stream opens all the same: a snapshot, then what arrives once Redis is back.
        this.logger.warn(
          `Subscribing client ${shortClient(clientId)}: ${(error as Error).message}`,
        );
      } finally {
        client.subscribed = true;
      }
    })();
    this.clients.set(clientId, client);
    this.byChannel.set(channel, clientId);
    return client;
  }

  private onMessage(channel: string, message: string): void {
    const clientId = this.byChannel.get(channel);
    const client = clientId === undefined ? undefined : this.clients.get(clientId);
    if (!client || clientId === undefined) return;
    const space = message.indexOf(' ');
    const event: JobEvent = {
      id: message.slice(0, space),
      clientId,
      job: JSON.parse(message.slice(space + 1)) as Job,
    };
    this.redis.watermark.saw(event.id);
    if (client.backlog) client.backlog.push(event);
    else this.deliver(client, event);
  }

  private deliver(client: ClientSubscription, event: JobEvent): void {
    const id = Number(event.id);
    if (id <= client.cursor) return;
    client.cursor = id;
    for (const listener of client.listeners) listener(event);
  }

  /**
   * Delivers what the stream holds past the cursor, then what pub/sub brought meanwhile (held in
   * the backlog). Retried while Redis is away: the commands connection may come back later than
   * the subscriber.
   */
  private async catchUp(
    clientId: ClientKey,
    client: ClientSubscription,
    lostAll = false,
  ): Promise<void> {
    client.gaps += 1;
    if (client.catchingUp) return;
    client.catchingUp = true;
    try {
      while (client.gaps > 0) {
        client.gaps = 0;
        if (lostAll) {
          // Redis lost its data (a new epoch): each subscriber starts over (a stream ends, and
          // its client reconnects to a snapshot); what comes from now on is delivered, whatever
          // its id, since a new sequence may begin below the old one.
          this.logger.warn(
            `Client ${shortClient(clientId)}: its events were lost with Redis's data; its streams start over`,
          );
          client.cursor = 0;
          for (const onLost of [...client.lost]) onLost();
          break;
        }
        const [kept, read] = (await retryWhileUnavailable(
          () => CATCH_UP.run(this.redis.command, [this.streamKey(clientId)], [client.cursor]),
          () => this.clients.get(clientId) === client,
        )) as [1, StreamEntry[]] | [0, string];
        if (!kept) {
          // Its streams end, and their clients resume or get a snapshot, like any resume too old;
          // a subscription joining before they have all gone goes on from the newest event.
          this.logger.warn(
            `Client ${shortClient(clientId)}: events it missed are no longer kept; its streams start over`,
          );
          client.cursor = Math.max(client.cursor, Number(read));
          for (const onLost of [...client.lost]) onLost();
          break;
        }
        for (const entry of read) this.deliver(client, this.toEvent(clientId, entry));
      }
    } catch (error) {
      this.logger.warn(`Catching up client ${shortClient(clientId)}: ${(error as Error).message}`);
    } finally {
      client.catchingUp = false;
      const backlog = client.backlog ?? [];
      delete client.backlog;
      for (const event of backlog) this.deliver(client, event);
    }
  }

  private toEvent(clientId: ClientKey, [id, fields]: StreamEntry): JobEvent {
    const eventId = id.slice(0, id.indexOf('-'));
    this.redis.watermark.saw(eventId);
    return { id: eventId, clientId, job: JSON.parse(fields[1]!) as Job };
  }

  /** The deployment's event floor (see REPLAY and EventWatermark). */
  private floorKey(): string {
    return `${this.redis.prefix}events:floor`;
  }

  private streamKey(clientId: ClientKey): string {
    return eventLogKeys(this.redis.prefix, clientId)[0];
  }

  /** The earliest head handed out for a client with no stream (see HEAD). */
  private headSinceKey(clientId: ClientKey): string {
    return eventLogKeys(this.redis.prefix, clientId)[1];
  }

  /** How long a head handed out for a stream not begun yet stays resumable: as long as a log. */
  private headSinceMs(): number {
    return eventLogTtlMs(this.config.retentionMs);
  }
}
