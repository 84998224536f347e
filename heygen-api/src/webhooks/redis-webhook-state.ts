import { Inject, Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import { type ClientKey } from '../domain/client.js';
import { RedisConnections } from '../redis/redis-connections.js';
import { RedisScript } from '../redis/redis-script.js';
import { storeCommand } from '../redis/redis-unavailable.js';
import { LUA_PENDING_DELIVERIES, webhookKey } from '../redis/webhook-hash.js';
import { SHARED_REDIS } from '../redis/shared-redis.js';
import { isFinalDelivery, type DeliveryAttempt, type WebhookDelivery } from './webhook-delivery.js';
import { type WebhookEventName } from './webhook-events.js';
import { type StoredSubscription, type WebhookState } from './webhook-state.js';
import { MAX_ATTEMPTS_KEPT } from './webhook-subscriptions.js';
import { type WebhookTarget } from './webhook-target.js';

/**
 * Lua: `forgotten(H)` is true once the webhook hash H has no target: it expired, or the store
 * forgot it with its job (MAX_RETAINED_JOBS). A write then makes nothing, as the memory driver's
 * does without its entry: a step of an attempt under way would make the hash again, a part
 * without a target, kept the whole schedule.
 */
const LUA_FORGOTTEN = `
local function forgotten(H) return redis.call('HEXISTS', H, 'target') == 0 end
`;

/** Marks the webhook (KEYS[1]) gone, unless forgotten; returns its fields. */
const MARK_GONE = new RedisScript(`${LUA_FORGOTTEN}
if forgotten(KEYS[1]) then return {} end
redis.call('HSET', KEYS[1], 'gone', '1')
return redis.call('HGETALL', KEYS[1])
`);

/**
 * Lua: `settle(H, L, ms)`. Once the job has finished (`finished`, set by FINISHED) and none of its
 * deliveries is pending, its webhook hash H and attempts list L are kept `ms` more (RETENTION_MS
 * and a minute: as long as the job, whose history they are) instead of the whole retry schedule,
 * as the memory driver drops them (review of 2026-12-02: a delivered webhook was kept 28 h).
 */
const LUA_SETTLE = `${LUA_PENDING_DELIVERIES}
local function settle(H, L, ms)
  if not redis.call('HGET', H, 'finished') or pending_deliveries(H) > 0 then return end
  redis.call('PEXPIRE', H, ms)
  redis.call('PEXPIRE', L, ms)
end
`;

/** The job finished (KEYS: hash, attempts): its webhook goes once settled. ARGV: the time kept. */
const FINISHED = new RedisScript(`${LUA_SETTLE}
if redis.call('EXISTS', KEYS[1]) == 0 then return end
redis.call('HSET', KEYS[1], 'finished', '1')
settle(KEYS[1], KEYS[2], ARGV[1])
`);

/**
 * Stores a delivery's state (ARGV[1] its id, ARGV[2] the delivery) in the hash KEYS[1] (nothing
 * once forgotten, see LUA_FORGOTTEN), the hash and the attempts list KEYS[2] kept ARGV[3] ms, or
 * ARGV[4] once settled. A delivery stored `delivered` is not made `pending` again: the copy of an
 * attempt that failed while another got a 2xx, saved after it, would send the webhook again
 * (review of 2026-12-02; the dispatcher reads the delivery again after each POST, which leaves a
 * round trip for this to close).
 */
const SAVE = new RedisScript(`${LUA_SETTLE}${LUA_FORGOTTEN}
if forgotten(KEYS[1]) then return end
local stored = redis.call('HGET', KEYS[1], 'd:' .. ARGV[1])
local delivered = stored and cjson.decode(stored).state == 'delivered'
if not (delivered and cjson.decode(ARGV[2]).state == 'pending') then
  redis.call('HSET', KEYS[1], 'd:' .. ARGV[1], ARGV[2])
end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
settle(KEYS[1], KEYS[2], ARGV[4])
`);

/**
 * Adds a delivery unless the event has one: `e:<eventId>` names the event's delivery, so that an
 * event announced twice (by JobsService and by the runner that took the job over) is sent once.
 * ARGV[5] says what it is: `final` (kept as `final` too), `progress` (not added once there is a
 * final one: a change heard late, which the final one covers) or `other`. Returns the delivery
 * kept, or nil when this one was added; an added one is pending: the hash and the attempts list
 * KEYS[2] are kept the whole time again.
 */
const ADD_DELIVERY = new RedisScript(`${LUA_FORGOTTEN}
if forgotten(KEYS[1]) then return false end
local kept = redis.call('HGET', KEYS[1], 'e:' .. ARGV[1])
if kept then return redis.call('HGET', KEYS[1], 'd:' .. kept) end
if ARGV[5] == 'progress' then
  local final = redis.call('HGET', KEYS[1], 'final')
  if final then return redis.call('HGET', KEYS[1], 'd:' .. final) end
end
redis.call('HSET', KEYS[1], 'e:' .. ARGV[1], ARGV[2], 'd:' .. ARGV[2], ARGV[3], 'latest', ARGV[2])
if ARGV[5] == 'final' then redis.call('HSET', KEYS[1], 'final', ARGV[2]) end
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
return false
`);

/**
 * Appends an attempt (ARGV[1]) to the list KEYS[1], keeping the latest ARGV[2], for as long as the
 * job's hash KEYS[2] is kept (ARGV[3] ms without it: the attempt's delivery is saved first, so a
 * settled webhook's list goes with its hash). An attempt already last is not added again: the
 * dispatcher tries a step again when its answer was lost, though Redis may have made it (an
 * attempt names its time and number: no two are equal).
 */
const RECORD = new RedisScript(`${LUA_FORGOTTEN}
if forgotten(KEYS[2]) then return end
if redis.call('LINDEX', KEYS[1], -1) ~= ARGV[1] then
  redis.call('RPUSH', KEYS[1], ARGV[1])
  redis.call('LTRIM', KEYS[1], -tonumber(ARGV[2]), -1)
end
local ttl = redis.call('PTTL', KEYS[2])
redis.call('PEXPIRE', KEYS[1], ttl > 0 and ttl or ARGV[3])
`);

/**
 * The redis driver's webhook state, so that any instance runs a delivery and answers its history
 * (docs/design.md, "What Redis holds"): per job a hash `<prefix>{<client>}:webhook:<id>`
 * (`target`, `gone`, `d:<deliveryId>` → the delivery, `e:<eventId>` → its delivery's id, `latest`
 * → the newest delivery's id, `final` → the final one's) and a
 * list `…:attempts` of the latest MAX_ATTEMPTS_KEPT attempts. Both expire after the longest a
 * job and its deliveries can take (MAX_JOB_TIME_MS + the whole schedule + RETENTION_MS), renewed
 * on every write; once the job has finished and no delivery is pending, RETENTION_MS after (see
 * LUA_SETTLE).
 */
@Injectable()
export class RedisWebhookState implements WebhookState {
  private readonly ttlMs: number;
  /** How long a settled webhook of a finished job is kept: as long as its job, and a minute. */
  private readonly settledMs: number;

  constructor(
    @Inject(AppConfig) config: AppConfig,
    @Inject(SHARED_REDIS) private readonly redis: RedisConnections,
  ) {
    const schedule = config.webhookRetryScheduleMs.reduce((sum, delay) => sum + delay, 0);
    this.ttlMs =
      config.maxJobTimeMs + schedule + config.webhookTimeoutMs * 20 + config.retentionMs + 60_000;
    this.settledMs = config.retentionMs + 60_000;
  }

  /**
   * Gives up nothing here: the keys expire (`ttlMs`), and the store's creation that forgets a job
   * at MAX_RETAINED_JOBS deletes them, giving up its pending deliveries (RedisJobStore).
   */
  async subscribe(
    clientId: ClientKey,
    jobId: number,
    target: WebhookTarget,
  ): Promise<WebhookDelivery[]> {
    const key = this.key(clientId, jobId);
    const stored = JSON.stringify({ url: target.url, events: [...target.events] });
    await storeCommand(
      this.redis.command.multi().hset(key, 'target', stored).pexpire(key, this.ttlMs).exec(),
    );
    return [];
  }

  async subscription(clientId: ClientKey, jobId: number): Promise<StoredSubscription | undefined> {
    const [target, gone, latest] = await storeCommand(
      this.redis.command.hmget(this.key(clientId, jobId), 'target', 'gone', 'latest'),
    );
    if (!target) return undefined;
    const { url, events } = JSON.parse(target) as { url: string; events: WebhookEventName[] };
    return {
      target: { url, events: new Set(events) },
      gone: gone === '1',
      ...(latest && { latestDeliveryId: latest }),
    };
  }

  finished(clientId: ClientKey, jobId: number): void {
    const key = this.key(clientId, jobId);
    // Not waited for: unmarked (Redis away), the webhook is kept for the whole schedule, as before.
    FINISHED.run(this.redis.command, [key, `${key}:attempts`], [this.settledMs]).catch(() => {});
  }

  async delivery(
    clientId: ClientKey,
    jobId: number,
    deliveryId: string,
  ): Promise<WebhookDelivery | undefined> {
    const stored = await storeCommand(
      this.redis.command.hget(this.key(clientId, jobId), `d:${deliveryId}`),
    );
    return stored ? (JSON.parse(stored) as WebhookDelivery) : undefined;
  }

  async addDelivery(delivery: WebhookDelivery): Promise<WebhookDelivery> {
    const key = this.key(delivery.clientId, delivery.jobId);
    const kept = await ADD_DELIVERY.run(
      this.redis.command,
      [key, `${key}:attempts`],
      [
        delivery.eventId,
        delivery.deliveryId,
        JSON.stringify(delivery),
        this.ttlMs,
        kindOf(delivery),
      ],
    );
    return typeof kept === 'string' ? (JSON.parse(kept) as WebhookDelivery) : delivery;
  }

  async saveDelivery(delivery: WebhookDelivery): Promise<void> {
    const key = this.key(delivery.clientId, delivery.jobId);
    await SAVE.run(
      this.redis.command,
      [key, `${key}:attempts`],
      [delivery.deliveryId, JSON.stringify(delivery), this.ttlMs, this.settledMs],
    );
  }

  async markGone(clientId: ClientKey, jobId: number): Promise<WebhookDelivery[]> {
    const fields = (await MARK_GONE.run(
      this.redis.command,
      [this.key(clientId, jobId)],
      [],
    )) as string[];
    const pending: WebhookDelivery[] = [];
    for (let i = 0; i < fields.length; i += 2) {
      const [field, value] = [fields[i]!, fields[i + 1]!];
      if (!field.startsWith('d:')) continue;
      const delivery = JSON.parse(value) as WebhookDelivery;
      if (delivery.state !== 'pending') continue;
      delivery.state = 'failed';
      delete delivery.nextAttemptAt;
      pending.push(delivery);
      await this.saveDelivery(delivery);
    }
    return pending;
  }

  async record(clientId: ClientKey, jobId: number, attempt: DeliveryAttempt): Promise<void> {
    const key = this.key(clientId, jobId);
    await RECORD.run(
      this.redis.command,
      [`${key}:attempts`, key],
      [JSON.stringify(attempt), MAX_ATTEMPTS_KEPT, this.ttlMs],
    );
  }

  async attempts(clientId: ClientKey, jobId: number): Promise<DeliveryAttempt[]> {
    const stored = await storeCommand(
      this.redis.command.lrange(`${this.key(clientId, jobId)}:attempts`, 0, -1),
    );
    return stored.map((attempt) => JSON.parse(attempt) as DeliveryAttempt);
  }

  private key(clientId: ClientKey, jobId: number): string {
    return webhookKey(this.redis.prefix, clientId, jobId);
  }
}

/** What ADD_DELIVERY needs to know of a delivery. */
function kindOf(delivery: WebhookDelivery): 'final' | 'progress' | 'other' {
  if (isFinalDelivery(delivery)) return 'final';
  return delivery.type === 'job.progress' ? 'progress' : 'other';
}
