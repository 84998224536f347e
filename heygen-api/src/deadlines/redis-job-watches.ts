import {
  Inject,
  Injectable,
  Logger,
  Optional,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { type ClientKey } from '../domain/client.js';
import { jobMember, parseJobMember } from '../redis/job-member.js';
import { RedisConnections } from '../redis/redis-connections.js';
import { LUA_NOW, RedisScript } from '../redis/redis-script.js';
import { JobWatches, unwatchOnce, type Unwatch } from './job-watches.js';

/** How often an instance refreshes what its own watches hold and sweeps for unwatched jobs, ms. */
export const REFRESH_MS = 500;

/**
 * How long past its time a job counts as unwatched, ms: ten refresh periods. A watch held by any
 * instance is refreshed every period while that instance's event loop and Redis keep time; the
 * rest of the grace covers an instance that stalls (a long GC pause, a blocked event loop, a slow
 * connection) without losing the jobs its streams watch. Twice the period was not enough: a
 * 1.8 s stall of one instance had another cancel a job its open stream watched (review of
 * 2026-12-01).
 */
export const GRACE_MS = 10 * REFRESH_MS;

/** The most jobs one sweep claims; a full batch sweeps again at once. */
const CLAIM_BATCH = 100;

/**
 * A claim is a lease of this many refresh periods, not a removal: the claimed job comes due again
 * after it unless its cancel forgot the watch (a finished job is forgotten, JobChanges), so a claim
 * whose answer was lost (Redis paused past the command timeout) or whose instance died still ends
 * in a cancel.
 */
const LEASE_PERIODS = 10;

/** The most clients, and the most jobs, one script call refreshes (a bound on its arguments). */
const TOUCH_CHUNK = 1000;

export interface RedisJobWatchesOptions {
  /** @default REFRESH_MS; tests make it short. */
  refreshMs?: number;
  /** @default GRACE_MS; tests make it short. */
  graceMs?: number;
}

/** Optional options of RedisJobWatches (tests); the app provides none. */
export const REDIS_JOB_WATCHES_OPTIONS = Symbol('RedisJobWatchesOptions');

const NOTHING: Unwatch = () => {};

/**
 * KEYS: 1 the unwatched zset (member `<id>@<client>` → when it counts as unwatched, ms, Redis's
 * clock), 2 the hash member → its cancelWhenUnwatched ms, 3 the client's set of opted-in ids. ARGV:
 * member, id, ms. Already there (a creation replayed): kept as it is.
 */
const ADD = new RedisScript(`${LUA_NOW}
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], fmt(now_ms() + tonumber(ARGV[3])), ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
redis.call('SADD', KEYS[3], ARGV[2])
return 1
`);

/** KEYS as ADD's. ARGV: member, id. */
const FORGET = new RedisScript(`
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('SREM', KEYS[3], ARGV[2])
return 1
`);

/**
 * Refreshes what is watched, then claims what is not. KEYS: 1 zset, 2 hash (as ADD's), 3… the sets
 * of the clients whose every job is watched. ARGV: 1 the most to claim (0: none), 2 the grace ms,
 * 3 the lease ms, 4 how many clients, then the clients (as KEYS 3…), then the members watched one
 * by one. A job counts as watched until now + its ms (ZADD XX: a job forgotten meanwhile is not
 * brought back); one whose time passed more than the grace ago is returned and leased in the same
 * step (scored now + the lease), so one instance at a time claims it, again once the lease ends if
 * its cancel did not forget it.
 */
const TICK = new RedisScript(`${LUA_NOW}
local Z, H = KEYS[1], KEYS[2]
local limit, grace, lease = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local n = tonumber(ARGV[4])
local now = now_ms()
local function touch(member)
  local after = redis.call('HGET', H, member)
  if after then redis.call('ZADD', Z, 'XX', fmt(now + tonumber(after)), member) end
end
for i = 1, n do
  local client = ARGV[4 + i]
  for _, id in ipairs(redis.call('SMEMBERS', KEYS[2 + i])) do touch(id .. '@' .. client) end
end
for i = 5 + n, #ARGV do touch(ARGV[i]) end
if limit == 0 then return {} end
local due = redis.call('ZRANGEBYSCORE', Z, '-inf', fmt(now - grace), 'LIMIT', 0, limit)
for _, member in ipairs(due) do redis.call('ZADD', Z, fmt(now + lease), member) end
return due
`);

/**
 * `cancelWhenUnwatched` with the redis driver (docs/design.md, "Deadlines"): a job's watchers may
 * be on any instance, so what they watch lives in Redis. Each opted-in job is a member of one zset,
 * scored with the time it counts as unwatched (its last watch + its ms, on Redis's clock, so that
 * instances' clocks never matter), with its ms in a hash and its id in a set of its client (what a
 * stream of the client refreshes). The watches themselves are counted here, per instance: a status
 * read refreshes what it named when it ends (one script call, shared by every read of the same
 * tick), and every REFRESH_MS one script refreshes everything this instance's open streams and
 * held waits cover, then claims the jobs unwatched for their time + GRACE_MS, up to CLAIM_BATCH,
 * which are handed to `onUnwatched`. Every instance sweeps; the claim is atomic, so each job is
 * claimed by one instance, for a lease (LEASE_PERIODS), until its cancel forgets the watch. A job
 * is cancelled between its time + GRACE_MS and its time + GRACE_MS + REFRESH_MS after its last
 * watch. While Redis is away the ticks fail, are logged once, and go on.
 */
@Injectable()
export class RedisJobWatches implements JobWatches, OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(RedisJobWatches.name);
  private readonly refreshMs: number;
  private readonly graceMs: number;
  /** Open streams (and reads without `ids`) by client: each watches all of the client's jobs. */
  private readonly streams = new Map<ClientKey, number>();
  /** Held reads by member (`<id>@<client>`). */
  private readonly held = new Map<string, number>();
  /** What ended watches refresh once more, at the end of the tick they ended in. */
  private readonly pendingClients = new Set<ClientKey>();
  private readonly pendingMembers = new Set<string>();
  private flush: NodeJS.Immediate | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = true;
  /** Logged once per outage, not once per tick. */
  private failing = false;
  private unwatched: (clientId: ClientKey, id: number) => void = () => {};

  constructor(
    @Inject(RedisConnections) private readonly redis: RedisConnections,
    @Optional() @Inject(REDIS_JOB_WATCHES_OPTIONS) options: RedisJobWatchesOptions = {},
  ) {
    this.refreshMs = options.refreshMs ?? REFRESH_MS;
    this.graceMs = options.graceMs ?? GRACE_MS;
  }

  onUnwatched(cancel: (clientId: ClientKey, id: number) => void): void {
    this.unwatched = cancel;
  }

  /** Watches this instance holds: streams' clients and held reads' jobs. */
  get size(): number {
    return this.streams.size + this.held.size;
  }

  /** Counted from now on Redis's clock (`now` is the memory driver's). */
  async add(clientId: ClientKey, id: number, afterMs: number): Promise<void> {
    await ADD.run(this.redis.command, this.keys(clientId), [jobMember(clientId, id), id, afterMs]);
  }

  forget(clientId: ClientKey, id: number): void {
    FORGET.run(this.redis.command, this.keys(clientId), [jobMember(clientId, id), id]).catch(
      (error: unknown) => this.logger.debug(`Job ${id}: not forgotten: ${String(error)}`),
    );
  }

  watch(clientId: ClientKey, ids: readonly number[] | undefined): Unwatch {
    if (ids === undefined) return this.watchAll(clientId);
    const members = [...new Set(ids)].map((id) => jobMember(clientId, id));
    if (members.length === 0) return NOTHING;
    for (const key of members) this.held.set(key, (this.held.get(key) ?? 0) + 1);
    // Nothing sent now: a job held for longer is refreshed by the next tick, well within the grace.
    return unwatchOnce(() => {
      for (const key of members) {
        const left = (this.held.get(key) ?? 1) - 1;
        if (left > 0) this.held.set(key, left);
        else this.held.delete(key);
        this.pendingMembers.add(key);
      }
      this.flushSoon();
    });
  }

  watchAll(clientId: ClientKey): Unwatch {
    this.streams.set(clientId, (this.streams.get(clientId) ?? 0) + 1);
    return unwatchOnce(() => {
      const left = (this.streams.get(clientId) ?? 1) - 1;
      if (left > 0) this.streams.set(clientId, left);
      else this.streams.delete(clientId);
      this.pendingClients.add(clientId);
      this.flushSoon();
    });
  }

  onModuleInit(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(this.refreshMs);
  }

  onModuleDestroy(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Refreshes this instance's watches and claims the unwatched jobs: one tick, run now. */
  async sweep(): Promise<number> {
    const claimed = await this.touch([...this.streams.keys()], [...this.held.keys()], CLAIM_BATCH);
    for (const claim of claimed) {
      const { clientId, id } = parseJobMember(claim);
      try {
        this.unwatched(clientId, id);
      } catch (error) {
        this.logger.error(`Job ${claim}: not handed over as unwatched`, error);
      }
    }
    return claimed.length;
  }

  private schedule(delay: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick(), delay);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    this.timer = undefined;
    let claimed = 0;
    try {
      claimed = await this.sweep();
      this.recovered();
    } catch (error) {
      this.failed('sweep', error);
    }
    // Set again only once this one is done: a slow Redis never has two ticks of one instance.
    this.schedule(claimed === CLAIM_BATCH ? 0 : this.refreshMs);
  }

  private flushSoon(): void {
    this.flush ??= setImmediate(() => {
      this.flush = undefined;
      const clients = [...this.pendingClients];
      const members = [...this.pendingMembers];
      this.pendingClients.clear();
      this.pendingMembers.clear();
      this.touch(clients, members, 0).then(
        () => this.recovered(),
        (error: unknown) => this.failed('refresh', error),
      );
    });
  }

  /** One TICK per chunk of what is refreshed; the last one claims up to `claim` jobs. */
  private async touch(clients: ClientKey[], members: string[], claim: number): Promise<string[]> {
    const { prefix } = this.redis;
    for (;;) {
      const someClients = clients.splice(0, TOUCH_CHUNK);
      const someMembers = members.splice(0, TOUCH_CHUNK);
      const last = clients.length === 0 && members.length === 0;
      const claimed = (await TICK.run(
        this.redis.command,
        [`${prefix}unwatched`, `${prefix}unwatched:after`, ...someClients.map(this.clientKey)],
        [
          last ? claim : 0,
          this.graceMs,
          LEASE_PERIODS * this.refreshMs,
          someClients.length,
          ...someClients,
          ...someMembers,
        ],
      )) as string[];
      if (last) return claimed;
    }
  }

  private failed(what: string, error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    // Stopping: the streams' last refreshes may find the connections closing.
    if (this.failing || this.stopped) {
      this.logger.debug(`cancelWhenUnwatched ${what} failed: ${message}`);
      return;
    }
    this.failing = true;
    this.logger.warn(
      `cancelWhenUnwatched ${what} failed, trying again every ${this.refreshMs} ms: ${message}`,
    );
  }

  private recovered(): void {
    if (!this.failing) return;
    this.failing = false;
    this.logger.log('cancelWhenUnwatched: Redis answers again');
  }

  private keys(clientId: ClientKey): string[] {
    const { prefix } = this.redis;
    return [`${prefix}unwatched`, `${prefix}unwatched:after`, this.clientKey(clientId)];
  }

  private readonly clientKey = (clientId: ClientKey): string =>
    `${this.redis.prefix}unwatched:client:${clientId}`;
}
