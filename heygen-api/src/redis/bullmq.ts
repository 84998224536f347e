import { type Logger } from '@nestjs/common';
import { type Queue, type Worker } from 'bullmq';
import { type Redis } from 'ioredis';
import { type RedisConnections } from './redis-connections.js';

/**
 * What a BullMQ queue and its worker share (the runner's `jobs`, the webhooks' `webhooks`): a
 * connection of their own, and BullMQ's keys under the app's prefix.
 */
export function bullmqConnection(
  redis: RedisConnections,
  name: string,
): { connection: Redis; prefix: string } {
  return {
    // BullMQ's blocking commands must wait out an outage, never fail after N retries.
    connection: redis.open(name, { maxRetriesPerRequest: null }),
    prefix: `${redis.prefix}bull`,
  };
}

/**
 * Logs an error of a BullMQ queue or worker, unless Redis is away: BullMQ reports every failed
 * reconnect and lock renewal, and RedisConnections has said once per connection that it is down.
 */
export function warnUnlessAway(
  logger: Pick<Logger, 'warn'>,
  redis: RedisConnections,
  source: string,
  error: Error,
): void {
  if (redis.command.status === 'ready') logger.warn(`${source}: ${error.message}`);
}

/**
 * Closes a worker, then its queue. The worker stops taking jobs before this returns its promise.
 * `away` (Redis not answering): forced, so that BullMQ neither waits for the running jobs nor QUITs
 * its connection politely, which a Redis that does not answer would never let end; the caller
 * bounds the wait either way (settlesWithin).
 */
export async function closeBullmq(
  worker: Pick<Worker, 'close'> | undefined,
  queue: Pick<Queue, 'close'> | undefined,
  away: boolean,
): Promise<void> {
  await worker?.close(away);
  await queue?.close();
}
