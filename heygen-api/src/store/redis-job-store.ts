import { Inject, Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import { type ClientKey } from '../domain/client.js';
import {
  isFinished,
  newJob,
  withEventId,
  withoutEventId,
  type Job,
  type JobRecord,
} from '../domain/job.js';
import { eventLogKeys, eventLogTtlMs, LUA_APPEND_EVENT, positionsKey } from '../redis/event-log.js';
import { jobMember, parseJobMember } from '../redis/job-member.js';
import { RedisConnections } from '../redis/redis-connections.js';
import { LUA_NOW, RedisScript } from '../redis/redis-script.js';
import { LUA_PENDING_DELIVERIES } from '../redis/webhook-hash.js';
import { type ListPage } from './list-page.js';
import { type CreateResult, type JobDraft, type JobStore, type Logged } from './job-store.js';

/**
 * A record as stored: the job without its id, which is the hash field (so Lua can assign it), and
 * without its event id, which the script adds beside it once the change's event is appended.
 */
interface StoredRecord {
  job: Omit<Job, 'id' | 'eventId'>;
  fail: boolean;
  idempotency?: { key: string; fingerprint: string };
  cancelAt?: number;
  address?: string;
  eventId?: string;
}

/** The record as stored: the job (without its id) and what the draft or record adds to it. */
function storedRecord(
  job: StoredRecord['job'],
  {
    fail,
    idempotency,
    cancelAt,
    address,
  }: Pick<JobRecord, 'fail' | 'idempotency' | 'cancelAt'> & { address?: string | undefined },
): StoredRecord {
  return {
    job,
    fail,
    ...(idempotency && { idempotency }),
    ...(cancelAt !== undefined && { cancelAt }),
    ...(address !== undefined && { address }),
  };
}

/**
 * Shared by every script of the store. KEYS: 1 jobs (hash id → record), 2 done (zset id → the time
 * it expires), 3 keys (hash idempotency key → id), 4 meta (hash: last id, active count). Finished
 * jobs are forgotten lazily, by the first script to touch their client after they expire; the
 * client's keys themselves expire once it has no unfinished job (settle), so nothing outlives
 * RETENTION_MS by more than the client's last id (docs/design.md, "What Redis holds").
 */
const LUA_CLIENT = `${LUA_NOW}
local J, D, K, M = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
${LUA_APPEND_EVENT}${LUA_PENDING_DELIVERIES}
-- A forgotten job's webhook (redis/webhook-hash.ts): a settled one is only the history of a job
-- that is gone, and would stay RETENTION_MS more. One still retrying keeps its schedule, unless
-- give_up (MAX_RETAINED_JOBS made room): then its pending deliveries go too, as the memory
-- driver gives them up at that cap, so the cap bounds webhooks as well. Returns how many.
local function forget_webhook(base, id, give_up)
  local h = base .. 'webhook:' .. id
  if redis.call('EXISTS', h) == 0 then return 0 end
  local pending = pending_deliveries(h)
  if pending > 0 and not give_up then return 0 end
  redis.call('DEL', h, h .. ':attempts')
  return pending
end
-- A job forgotten from a client's keys (j, d, k): this client's, or another's (evict). Returns
-- the pending webhook deliveries given up with it.
local function forget_from(j, d, k, id, give_up)
  local v = redis.call('HGET', j, id)
  if v then
    local r = cjson.decode(v)
    if type(r.idempotency) == 'table' then redis.call('HDEL', k, r.idempotency.key) end
    redis.call('HDEL', j, id)
  end
  redis.call('ZREM', d, id)
  -- j is '<prefix>{<client>}:jobs': the webhook's key (webhookKey) has the same start.
  return forget_webhook(string.sub(j, 1, -5), id, give_up)
end
local function forget(id) forget_from(J, D, K, id) end
-- The record (JSON) with the id of the event that left its job so (issue 19).
local function with_event(record, event)
  return '{"eventId":"' .. event .. '",' .. string.sub(record, 2)
end
local function purge(now)
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', D, '-inf', now)) do forget(id) end
end
-- While the client has an unfinished job its keys have no TTL (PERSISTed by the creation that
-- took 'active' from 0 to 1); once it has none (active, after a job finished), they expire with
-- its last finished job.
local function settle(now, active)
  if active > 0 then return end
  local at = math.max(now + 1, tonumber(redis.call('HGET', M, 'last') or '0') + 1)
  local newest = redis.call('ZRANGE', D, -1, -1, 'WITHSCORES')
  if newest[2] then at = math.max(at, tonumber(newest[2])) end
  for _, key in ipairs({J, D, K, M}) do redis.call('PEXPIREAT', key, fmt(at)) end
end
`;

/**
 * KEYS[5]: the deployment's active count; 6, 7: the client's event stream and head-since; 8: the
 * pending index; 9: the deployment's finished jobs; 10: unfinished jobs by address; 11: the last
 * positions of clients with no unfinished job (LUA_APPEND_EVENT). ARGV: record,
 * idempotency key or '', three limits, the job's JSON without its id (the event's, once the id is
 * known), the events kept, their least time kept (ms), the client, MAX_RETAINED_JOBS, the key
 * prefix, the address counted or '', MAX_ACTIVE_JOBS_PER_ADDRESS, POSITION_RETENTION_MS. A job
 * created is logged as its first event in the same step; the answer also counts the jobs evicted by
 * each limit.
 *
 * MAX_RETAINED_JOBS counts the deployment's unfinished jobs (KEYS[5]) and its finished ones (KEYS[9],
 * `<id>@<client>` → when it expires): room is made as the memory driver makes it, by forgetting the
 * oldest finished job of any client (its keys named from the member: one primary, not Cluster). A
 * client left with no job loses its event stream too (the bulk of a one-job client's memory) and,
 * once the clock has passed it, its id sequence; its last position (head-since) stays a log's time
 * instead of a day, so its event ids still resume meanwhile.
 */
const CREATE = new RedisScript(`${LUA_CLIENT}
local A, F = KEYS[5], KEYS[9]
-- Returns the pending webhook deliveries given up with the job.
local function evict(member, now)
  local at = string.find(member, '@', 1, true)
  local base = ARGV[11] .. '{' .. string.sub(member, at + 1) .. '}:'
  local given_up = forget_from(base .. 'jobs', base .. 'done', base .. 'keys', string.sub(member, 1, at - 1), true)
  if redis.call('EXISTS', base .. 'jobs') == 1 then return given_up end
  redis.call('DEL', base .. 'events')
  -- Its last position for a log's time, not a day: under a flood of one-job clients it would
  -- outweigh the jobs the cap keeps (docs/deployment.md, "Size it").
  redis.call('PEXPIRE', base .. 'head-since', ARGV[8], 'LT')
  -- Counted as expiring then (MAX_RETAINED_POSITIONS), not when its last event set it to.
  redis.call('ZADD', KEYS[11], 'XX', 'LT', now + tonumber(ARGV[8]), base .. 'head-since')
  -- Its id sequence too, once the clock has passed its last id (domain/sequence.ts, canForget).
  local meta = base .. 'meta'
  if tonumber(redis.call('HGET', meta, 'last') or '0') < now then redis.call('DEL', meta) end
  return given_up
end
local record, key = ARGV[1], ARGV[2]
local activePerClient, keptPerClient, activeAll = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local now = now_ms()
purge(now)
if key ~= '' then
  local id = redis.call('HGET', K, key)
  local v = id and redis.call('HGET', J, id)
  if v then return {'existing', id, v} end
end
if tonumber(redis.call('HGET', M, 'active') or '0') >= activePerClient then return {'limit', 'client'} end
local address = ARGV[12]
if address ~= '' and tonumber(redis.call('HGET', KEYS[10], address) or '0') >= tonumber(ARGV[13]) then
  return {'limit', 'address'}
end
local active_now = tonumber(redis.call('GET', A) or '0')
if active_now >= activeAll then return {'limit', 'server'} end
local per_client, retained_evicted, given_up = 0, 0, 0
while redis.call('HLEN', J) >= keptPerClient do
  local oldest = redis.call('ZRANGE', D, 0, 0)
  if not oldest[1] then return {'limit', 'client'} end
  forget(oldest[1])
  redis.call('ZREM', F, oldest[1] .. '@' .. ARGV[9])
  per_client = per_client + 1
end
-- Those past their retention are forgotten already, or will be by their client's next script.
redis.call('ZREMRANGEBYSCORE', F, '-inf', now)
local retained = active_now + redis.call('ZCARD', F)
while retained >= tonumber(ARGV[10]) do
  local oldest = redis.call('ZPOPMIN', F)
  if not oldest[1] then break end
  given_up = given_up + evict(oldest[1], now)
  retained = retained - 1
  retained_evicted = retained_evicted + 1
end
local id = fmt(math.max(tonumber(redis.call('HGET', M, 'last') or '0') + 1, now))
redis.call('HSET', M, 'last', id)
-- Pending, in the deployment's index, until its first change (UPDATE): see stillPending.
redis.call('ZADD', KEYS[8], now, id .. '@' .. ARGV[9])
local active = redis.call('HINCRBY', M, 'active', 1)
redis.call('INCR', A)
if address ~= '' then redis.call('HINCRBY', KEYS[10], address, 1) end
local job = '{"id":' .. id .. ',' .. string.sub(ARGV[6], 2)
-- The client's events are kept while it has an unfinished job, as its jobs are, however quiet
-- the job (review of 2026-12-01: a 24 h job's stream expired between two progress events, and
-- catching up from its eventId answered 410 for good).
local event = append_event(KEYS[6], KEYS[7], job, tonumber(ARGV[7]), tonumber(ARGV[8]), now, true, tonumber(ARGV[14]))
redis.call('HSET', J, id, with_event(record, event))
if key ~= '' then redis.call('HSET', K, key, id) end
if active == 1 then
  for _, k in ipairs({J, D, K, M}) do redis.call('PERSIST', k) end
end
return {'created', id, record, event, per_client, retained_evicted, given_up}
`);

/** ARGV: id. */
const GET = new RedisScript(`${LUA_CLIENT}
purge(now_ms())
return redis.call('HGET', J, ARGV[1])
`);

const LIST = new RedisScript(`${LUA_CLIENT}
purge(now_ms())
return redis.call('HGETALL', J)
`);

/**
 * A page of the client's jobs (store/list-page.ts): ARGV[1] the id they come after (0: from the
 * first), ARGV[2] the most of them. Answers whether more follow (1 or 0), then id and record of
 * each, oldest first: only the page's records leave Redis.
 */
const LIST_PAGE = new RedisScript(`${LUA_CLIENT}
purge(now_ms())
local after, limit = tonumber(ARGV[1]), tonumber(ARGV[2])
local ids = {}
for _, id in ipairs(redis.call('HKEYS', J)) do
  if tonumber(id) > after then ids[#ids + 1] = tonumber(id) end
end
table.sort(ids)
local answer = {#ids > limit and 1 or 0}
for i = 1, math.min(limit, #ids) do
  local id = fmt(ids[i])
  answer[#answer + 1] = id
  answer[#answer + 1] = redis.call('HGET', J, id)
end
return answer
`);

/**
 * Compare-and-set on the job's revision (every change bumps it), and the change's event appended in
 * the same step. KEYS[5]: the deployment's active count; 6, 7: the client's event stream and
 * head-since; 8: the pending index; 9: the deployment's finished jobs, 10: unfinished jobs by
 * address (CREATE); 11: the last positions of clients with no unfinished job (LUA_APPEND_EVENT).
 * ARGV: id, the revision read, the new record, '1' when this change finishes the job, retention
 * ms, the job's JSON (the event), the events kept, their least time kept (ms), the job's pending
 * member or '', the client, the address the job counts in or '', POSITION_RETENTION_MS,
 * MAX_RETAINED_POSITIONS.
 */
const UPDATE = new RedisScript(`${LUA_CLIENT}
local A = KEYS[5]
local id = ARGV[1]
local now = now_ms()
-- No purge: a job past its retention is finished, and no change applies to a finished job.
local v = redis.call('HGET', J, id)
if not v then return {'gone'} end
if cjson.decode(v).job.revision ~= tonumber(ARGV[2]) then return {'conflict', v} end
local finishing = ARGV[4] == '1'
-- As in CREATE: kept while the client has an unfinished job (this one, unless it ends now); from
-- its last one's end, for a log's time.
local kept = not finishing or tonumber(redis.call('HGET', M, 'active') or '0') > 1
local event = append_event(KEYS[6], KEYS[7], ARGV[6], tonumber(ARGV[7]), tonumber(ARGV[8]), now, kept, tonumber(ARGV[12]), KEYS[11], tonumber(ARGV[13]))
redis.call('HSET', J, id, with_event(ARGV[3], event))
if ARGV[9] ~= '' then redis.call('ZREM', KEYS[8], ARGV[9]) end
if finishing then
  local active = redis.call('HINCRBY', M, 'active', -1)
  redis.call('DECR', A)
  local expires = fmt(now + tonumber(ARGV[5]))
  redis.call('ZADD', D, expires, id)
  redis.call('ZADD', KEYS[9], expires, id .. '@' .. ARGV[10])
  if ARGV[11] ~= '' and redis.call('HINCRBY', KEYS[10], ARGV[11], -1) <= 0 then
    redis.call('HDEL', KEYS[10], ARGV[11])
  end
  settle(now, active)
end
return {'ok', event}
`);

/**
 * The pending jobs created `ARGV[1]` ms ago or more, at most ARGV[2], each scored anew (now), so
 * that it is handed out again only after as long. KEYS[1]: the pending index (CREATE, UPDATE).
 */
const STILL_PENDING = new RedisScript(`${LUA_NOW}
local now = now_ms()
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', fmt(now - tonumber(ARGV[1])), 'LIMIT', 0, tonumber(ARGV[2]))
for _, member in ipairs(due) do redis.call('ZADD', KEYS[1], now, member) end
return due
`);

/** Concurrent changes of one job retry this often before the last error is reported. */
const MAX_CONFLICTS = 20;

/**
 * Unfinished jobs whose last stored record an instance keeps, per job the runner may work on at
 * once (RUNNER_CONCURRENCY): the jobs it creates or changes, for the next change of each.
 */
const LAST_SEEN_PER_RUNNING_JOB = 2;

/**
 * The job store in Redis, shared by every instance (JOBS_DRIVER=redis). Every read-modify-write is
 * one Lua script, so limits, idempotency keys and id sequences hold across the deployment; ids
 * come from Redis's clock, so instances with skewed clocks never repeat one. It keeps the event log
 * too: creating or changing a job appends its event (RedisJobEvents' stream) in the same script,
 * and returns it (Logged), so the caller does not publish it again.
 */
@Injectable()
export class RedisJobStore implements JobStore {
  /**
   * `<id> <client>` → the record this instance last created or stored, while unfinished: what the
   * next update's compare-and-set is tried on, so that a change is one round trip, not two.
   */
  private readonly lastSeen = new Map<string, JobRecord>();
  private readonly lastSeenMax: number;

  constructor(
    @Inject(AppConfig) private readonly config: AppConfig,
    @Inject(RedisConnections) private readonly redis: RedisConnections,
  ) {
    this.lastSeenMax = Math.max(1000, LAST_SEEN_PER_RUNNING_JOB * config.runnerConcurrency);
  }

  async create(draft: JobDraft): Promise<CreateResult> {
    const { clientId, limits, idempotency } = draft;
    const { id: _, ...job } = newJob(0, draft.duration, draft.now);
    const address = limits.activePerAddress ? draft.address : undefined;
    const [outcome, id, value, eventId, perClient, retained, givenUp] = (await CREATE.run(
      this.redis.command,
      this.changeKeys(clientId),
      [
        JSON.stringify(storedRecord(job, { ...draft, address })),
        idempotency?.key ?? '',
        limits.activePerClient,
        limits.keptPerClient,
        limits.active,
        JSON.stringify(job),
        ...this.eventArgs(),
        clientId,
        this.config.maxRetainedJobs,
        this.redis.prefix,
        address ?? '',
        limits.activePerAddress ?? 0,
        this.config.positionRetentionMs,
      ],
    )) as [string, string, string?, string?, number?, number?, number?];
    if (outcome === 'limit') {
      return { outcome, limit: id === 'server' || id === 'address' ? id : 'client' };
    }
    const parsed = this.parse(clientId, id, value!);
    if (outcome === 'existing') return { outcome, record: parsed };
    this.redis.watermark.saw(eventId);
    const record = { ...parsed, job: withEventId(parsed.job, eventId!) };
    this.remember(`${id} ${clientId}`, record);
    return {
      outcome: 'created',
      record,
      event: { id: eventId!, clientId, job: record.job },
      evicted: { perClient: perClient!, retained: retained!, webhooksGivenUp: givenUp! },
    };
  }

  async get(clientId: ClientKey, id: number): Promise<JobRecord | undefined> {
    const value = (await GET.run(this.redis.command, this.keys(clientId), [id])) as string | null;
    return value === null ? undefined : this.parse(clientId, String(id), value);
  }

  async listByClient(clientId: ClientKey): Promise<JobRecord[]> {
    const flat = (await LIST.run(this.redis.command, this.keys(clientId))) as string[];
    const records: JobRecord[] = [];
    for (let i = 0; i < flat.length; i += 2) {
      records.push(this.parse(clientId, flat[i]!, flat[i + 1]!));
    }
    // A hash keeps no order: ids are given in creation order.
    return records.sort((a, b) => a.job.id - b.job.id);
  }

  async listPage(
    clientId: ClientKey,
    { limit, startingAfter }: ListPage,
  ): Promise<{ records: JobRecord[]; more: boolean }> {
    const [more, ...flat] = (await LIST_PAGE.run(this.redis.command, this.keys(clientId), [
      startingAfter ?? 0,
      // No limit: the rest of the list, at most MAX_JOBS_PER_CLIENT.
      limit ?? this.config.maxJobsPerClient,
    ])) as [number, ...string[]];
    const records: JobRecord[] = [];
    for (let i = 0; i < flat.length; i += 2) {
      records.push(this.parse(clientId, flat[i]!, flat[i + 1]!));
    }
    return { records, more: more === 1 };
  }

  async update(
    clientId: ClientKey,
    id: number,
    change: (job: Job) => Job | undefined,
  ): Promise<(JobRecord & Logged) | undefined> {
    const name = `${id} ${clientId}`;
    // The job as this instance last stored it: the compare-and-set is tried on it without reading
    // first (a stale one costs a conflict, whose answer is the job as stored).
    let record = this.lastSeen.get(name);
    let seen = record !== undefined;
    for (let attempt = 0; ; attempt++) {
      record ??= await this.get(clientId, id);
      const next = record && change(record.job);
      if (!record || !next) {
        this.lastSeen.delete(name);
        // Declined on what this instance last saw: it may have changed since, so read it.
        if (seen) {
          seen = false;
          record = undefined;
          continue;
        }
        return undefined;
      }
      const { id: _, ...job } = withoutEventId(next);
      const [outcome, value] = (await UPDATE.run(this.redis.command, this.changeKeys(clientId), [
        id,
        record.job.revision,
        JSON.stringify(storedRecord(job, record)),
        !isFinished(record.job) && isFinished(next) ? '1' : '0',
        this.config.retentionMs,
        JSON.stringify(withoutEventId(next)),
        ...this.eventArgs(),
        // Out of the pending index with its first change.
        record.job.status === 'pending' ? jobMember(clientId, id) : '',
        clientId,
        record.address ?? '',
        this.config.positionRetentionMs,
        this.config.maxRetainedPositions,
      ])) as [string, string?];
      if (outcome === 'ok') {
        this.redis.watermark.saw(value);
        const updated = { ...record, job: withEventId(next, value!) };
        this.remember(name, updated);
        return { ...updated, event: { id: value!, clientId, job: updated.job } };
      }
      if (outcome === 'gone') {
        this.lastSeen.delete(name);
        return undefined;
      }
      // Another instance changed the job in between: reapply to the job as stored.
      if (attempt >= MAX_CONFLICTS) throw new Error(`Job ${id}: too many concurrent changes`);
      record = this.parse(clientId, String(id), value!);
      seen = false;
    }
  }

  /** Keeps `record` for the next update of its job while it is unfinished, the newest first out. */
  private remember(name: string, record: JobRecord): void {
    this.lastSeen.delete(name);
    if (isFinished(record.job)) return;
    this.lastSeen.set(name, record);
    if (this.lastSeen.size > this.lastSeenMax) {
      this.lastSeen.delete(this.lastSeen.keys().next().value!);
    }
  }

  /**
   * The keys of a change's script (CREATE, UPDATE): the client's, the active counter, its event
   * log, the pending index, the finished jobs, the unfinished ones by address and the last
   * positions.
   */
  private changeKeys(clientId: ClientKey): string[] {
    return [
      ...this.keys(clientId),
      this.activeKey,
      ...eventLogKeys(this.redis.prefix, clientId),
      this.pendingKey,
      this.finishedKey,
      this.addressesKey,
      positionsKey(this.redis.prefix),
    ];
  }

  /** The client's four keys; the braces make them one hash slot (one script touches them all). */
  private keys(clientId: ClientKey): string[] {
    const base = `${this.redis.prefix}{${clientId}}`;
    return [`${base}:jobs`, `${base}:done`, `${base}:keys`, `${base}:meta`];
  }

  /** The event log's bounds, as RedisJobEvents keeps them: entries, least time kept (ms). */
  private eventArgs(): [number, number] {
    return [this.config.replayLogSize, eventLogTtlMs(this.config.retentionMs)];
  }

  private get activeKey(): string {
    return `${this.redis.prefix}active`;
  }

  /** The deployment's finished jobs, `<id>@<client>` by when they expire: MAX_RETAINED_JOBS. */
  private get finishedKey(): string {
    return `${this.redis.prefix}finished`;
  }

  /** Unfinished jobs by address (hash address → count): MAX_ACTIVE_JOBS_PER_ADDRESS. */
  private get addressesKey(): string {
    return `${this.redis.prefix}active:addresses`;
  }

  /** The deployment's pending jobs, `<id>@<client>` by creation time: see stillPending. */
  private get pendingKey(): string {
    return `${this.redis.prefix}pending`;
  }

  async stillPending(
    olderThanMs: number,
    limit: number,
  ): Promise<{ clientId: ClientKey; id: number }[]> {
    const due = (await STILL_PENDING.run(
      this.redis.command,
      [this.pendingKey],
      [olderThanMs, limit],
    )) as string[];
    return due.map(parseJobMember);
  }

  private parse(clientId: ClientKey, id: string, value: string): JobRecord {
    const stored = JSON.parse(value) as StoredRecord;
    this.redis.watermark.saw(stored.eventId);
    const job: Job = { id: Number(id), ...stored.job };
    return {
      // Records stored before issue 19 have no event id.
      job: stored.eventId === undefined ? job : withEventId(job, stored.eventId),
      clientId,
      fail: stored.fail,
      ...(stored.idempotency && { idempotency: stored.idempotency }),
      ...(stored.cancelAt !== undefined && { cancelAt: stored.cancelAt }),
      ...(stored.address !== undefined && { address: stored.address }),
    };
  }
}
