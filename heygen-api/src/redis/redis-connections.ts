import { Logger, type OnApplicationShutdown } from '@nestjs/common';
import { Redis, type RedisOptions } from 'ioredis';
import { ConfigError, type AppConfig } from '../config/app-config.js';
import { EventWatermark } from './event-watermark.js';
import { settlesWithin } from './redis-unavailable.js';

/** How long start-up waits for Redis before it fails with one line naming REDIS_URL. */
const CONNECT_TIMEOUT_MS = 5000;

/**
 * The longest a command of a request waits for Redis's answer: a script takes well under 1 ms,
 * so only a Redis that does not answer reaches it. Also how long a stream waits to subscribe.
 */
export const COMMAND_TIMEOUT_MS = 2000;

/** Where a redis:// URL points, without its password: what logs and errors may show. */
export function redisAddress(url: string): string {
  const { host, pathname } = new URL(url);
  return `${host}${pathname === '/' ? '' : pathname}`;
}

/**
 * The Redis connections of one instance (redis driver): one for commands, shared by the store and
 * the event log; the rest are made on demand for what blocks a connection (pub/sub, BullMQ).
 * Every key the drivers write starts with `prefix` (docs/design.md, "What Redis holds").
 */
export class RedisConnections implements OnApplicationShutdown {
  private readonly logger = new Logger('Redis');
  private readonly all: Redis[] = [];
  /** Logged once per outage per connection, not once per reconnect attempt. */
  private readonly down = new WeakSet<Redis>();
  readonly command: Redis;
  /** The highest event id this instance has handed out or heard (see EventWatermark). */
  readonly watermark = new EventWatermark();

  private constructor(
    readonly url: string,
    readonly prefix: string,
  ) {
    // A request must fail within a bounded time while Redis is away (503 STORE_UNAVAILABLE, which
    // clients retry), and a command its caller gave up on must never run later: a creation
    // answered 503 would still create the job (docs/deployment.md, "When Redis is away").
    this.command = this.open('command', {
      // Disconnected: fail at once, rather than queue the command until the connection is back.
      enableOfflineQueue: false,
      // A command in flight when the connection drops fails at once, rather than being sent again
      // after the reconnect (ioredis's default).
      maxRetriesPerRequest: 0,
      // Connected to a Redis that does not answer (paused, or a network that drops packets).
      commandTimeout: COMMAND_TIMEOUT_MS,
    });
  }

  /** Connects the command connection, or fails with a ConfigError naming REDIS_URL and the address. */
  static async connect(config: AppConfig, prefix = 'heygen:'): Promise<RedisConnections> {
    const connections = new RedisConnections(config.redisUrl, prefix);
    const { command } = connections;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        new Promise<void>((resolve, reject) => {
          command.once('ready', resolve);
          command.once('error', reject);
        }),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error('timed out')), CONNECT_TIMEOUT_MS);
        }),
      ]);
    } catch (error) {
      await connections.close();
      const { code, message } = error as NodeJS.ErrnoException;
      throw new ConfigError([
        `REDIS_URL: cannot connect to Redis at ${redisAddress(config.redisUrl)} (${code ?? message})`,
      ]);
    } finally {
      clearTimeout(timer);
    }
    return connections;
  }

  /** A new connection to the same Redis, e.g. for pub/sub, which takes a connection for itself. */
  open(
    name: string,
    options: Pick<
      RedisOptions,
      'enableOfflineQueue' | 'maxRetriesPerRequest' | 'commandTimeout'
    > = {},
  ): Redis {
    const redis = new Redis(this.url, {
      connectionName: `heygen-api:${name}`,
      // Reconnect for ever, backing off to 2 s: an outage ends in a recovery, not a dead instance.
      retryStrategy: (times) => Math.min(times * 100, 2000),
      ...options,
    });
    redis.on('error', (error: Error) => {
      if (this.down.has(redis)) return;
      this.down.add(redis);
      this.logger.warn(`${name}: ${redisAddress(this.url)}: ${error.message}`);
    });
    redis.on('ready', () => {
      // At the warning's level: an operator at the default level (warn) sees the outage end too.
      if (this.down.delete(redis)) this.logger.warn(`${name}: connected again`);
    });
    this.all.push(redis);
    return redis;
  }

  async close(): Promise<void> {
    await Promise.all(
      this.all.splice(0).map(async (redis) => {
        // QUIT waits for Redis: while it is away, for ever on a connection with an offline queue.
        const quit = redis.status === 'ready' && redis.quit();
        if (!quit || !(await settlesWithin(quit, COMMAND_TIMEOUT_MS))) redis.disconnect();
      }),
    );
  }

  /** Last: every request and every worker that used these connections has ended by now. */
  async onApplicationShutdown(): Promise<void> {
    await this.close();
  }
}
