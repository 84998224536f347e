import { Inject, Injectable, Optional, type OnModuleInit } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { createHmac, randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { AppConfig } from '../config/app-config.js';
import { type ClientKey } from '../domain/client.js';
import { RedisScript } from '../redis/redis-script.js';
import { storeCommand } from '../redis/redis-unavailable.js';
import { SHARED_REDIS } from '../redis/shared-redis.js';

const PREFIX = 'whsec_';

/** A fresh secret in Standard Webhooks' form: `whsec_` and 32 random bytes in base64. */
export const newWebhookSecret = (): string => PREFIX + randomBytes(32).toString('base64');

/** The API-key scope of a client (domain/client.ts): `''` when API keys are off. */
export const scopeOf = (clientId: ClientKey): string =>
  clientId.includes('/') ? clientId.slice(0, clientId.indexOf('/')) : '';

/** What is used of the redis driver's RedisConnections (redis/redis-connections.ts). */
interface SharedRedis {
  prefix: string;
  command: Redis;
}

/**
 * The generated master (KEYS[1]), stored again when it is gone (Redis lost its data: every
 * instance then takes the first one stored, rather than each signing with its own), and a
 * scope's rotation (KEYS[2], field ARGV[2]; '' when none). ARGV[1]: this instance's master.
 */
const MASTER_AND_ROTATION = new RedisScript(`
local master = redis.call('GET', KEYS[1])
if not master then
  redis.call('SET', KEYS[1], ARGV[1])
  master = ARGV[1]
end
return {master, redis.call('HGET', KEYS[2], ARGV[2]) or ''}
`);

/** An earlier secret of a scope, signing until the end of its grace period (ms since the epoch). */
interface Earlier {
  secret: string;
  until: number;
}

interface Rotated {
  current: string;
  /** The secrets rotated out and still in their grace period, newest first. */
  earlier: Earlier[];
}

/** As stored before a second rotation kept the first's grace (one `previous`). */
interface StoredRotated {
  current: string;
  earlier?: Earlier[];
  previous?: string;
  previousUntil?: number;
}

/**
 * The most secrets a delivery is signed with: the current one and the latest earlier ones still
 * in their grace. Rotating more often than that within a grace period drops the oldest.
 */
const MAX_SIGNING_SECRETS = 8;

/**
 * One signing secret per API key (issue 19). Each scope's secret is derived from a master —
 * WEBHOOK_SECRET, or one generated at start — so every instance configured alike signs alike and
 * nothing is stored; without API keys the master is the secret itself. With the redis driver and
 * no WEBHOOK_SECRET, the first instance to start stores its generated master (SET NX) and every
 * other takes it, so all instances show and sign with the same secrets. A rotation replaces the
 * derived secret of its scope with a random one and keeps the old one signing for
 * WEBHOOK_SECRET_GRACE_S: kept in this process with the memory driver, in Redis (one hash field
 * per scope, read at each signature) with the redis driver, so every instance signs alike.
 */
@Injectable()
export class WebhookSecrets implements OnModuleInit {
  private master: string;
  private readonly rotated = new Map<string, Rotated>();
  private readonly signers = new Map<string, Webhook>();

  constructor(
    @Inject(AppConfig) private readonly config: AppConfig,
    @Optional() @Inject(SHARED_REDIS) private readonly redis?: SharedRedis,
  ) {
    this.master = config.webhookSecret ?? newWebhookSecret();
  }

  async onModuleInit(): Promise<void> {
    if (this.config.webhookSecret !== undefined || !this.redis) return;
    await this.rotationOf('');
  }

  /** The secret a receiver verifies this client's webhooks with. */
  async secretOf(clientId: ClientKey): Promise<string> {
    const scope = scopeOf(clientId);
    return (await this.rotationOf(scope))?.current ?? this.derived(scope);
  }

  /**
   * Replaces the client's secret; the old one signs too until the grace period ends, and so does
   * any earlier one whose grace is still running (a second rotation keeps the first's promise).
   * Two rotations at once on two instances: the last one written wins, and the other's secret
   * never signs.
   */
  async rotate(
    clientId: ClientKey,
    now = Date.now(),
  ): Promise<{ secret: string; previousValidUntil: string }> {
    const scope = scopeOf(clientId);
    const before = await this.rotationOf(scope);
    const until = now + this.config.webhookSecretGraceS * 1000;
    const rotated: Rotated = {
      current: newWebhookSecret(),
      earlier: [
        { secret: before?.current ?? this.derived(scope), until },
        ...(before?.earlier ?? []).filter((earlier) => earlier.until > now),
      ].slice(0, MAX_SIGNING_SECRETS - 1),
    };
    if (this.redis) {
      await storeCommand(
        this.redis.command.hset(this.rotationsKey(this.redis), scope, JSON.stringify(rotated)),
      );
    } else {
      this.rotated.set(scope, rotated);
    }
    return { secret: rotated.current, previousValidUntil: new Date(until).toISOString() };
  }

  /**
   * `webhook-signature`: `v1,<base64>` by the current secret, and by each earlier one during its
   * grace period, space-separated as Standard Webhooks allows, so that a receiver holding any of
   * them verifies.
   */
  async sign(clientId: ClientKey, id: string, at: Date, body: string): Promise<string> {
    const scope = scopeOf(clientId);
    const rotated = await this.rotationOf(scope);
    const secrets = [rotated?.current ?? this.derived(scope)];
    for (const earlier of rotated?.earlier ?? []) {
      if (at.getTime() < earlier.until) secrets.push(earlier.secret);
    }
    return secrets.map((secret) => this.signer(secret).sign(id, at, body)).join(' ');
  }

  /** The scope's rotation; with the redis driver and a generated master, the master too. */
  private async rotationOf(scope: string): Promise<Rotated | undefined> {
    const { redis } = this;
    if (!redis) return this.rotated.get(scope);
    let stored: string | null;
    if (this.config.webhookSecret === undefined) {
      const [master, rotation] = (await MASTER_AND_ROTATION.run(
        redis.command,
        [`${redis.prefix}webhooks:secret`, this.rotationsKey(redis)],
        [this.master, scope],
      )) as [string, string];
      this.master = master;
      stored = rotation === '' ? null : rotation;
    } else {
      stored = await storeCommand(redis.command.hget(this.rotationsKey(redis), scope));
    }
    return stored === null ? undefined : asRotated(JSON.parse(stored) as StoredRotated);
  }

  private rotationsKey(redis: SharedRedis): string {
    return `${redis.prefix}webhooks:rotated`;
  }

  private derived(scope: string): string {
    if (scope === '') return this.master;
    return PREFIX + createHmac('sha256', this.master).update(`webhooks:${scope}`).digest('base64');
  }

  private signer(secret: string): Webhook {
    let signer = this.signers.get(secret);
    if (!signer) {
      // Rotations add secrets: a bounded cache, rebuilt when full.
      if (this.signers.size >= 1024) this.signers.clear();
      signer = new Webhook(secret);
      this.signers.set(secret, signer);
    }
    return signer;
  }
}

/** A rotation as stored, in either shape. */
function asRotated({ current, earlier, previous, previousUntil }: StoredRotated): Rotated {
  if (earlier) return { current, earlier };
  return {
    current,
    earlier: previous === undefined ? [] : [{ secret: previous, until: previousUntil ?? 0 }],
  };
}
