import { randomBytes } from 'node:crypto';
import { type Cleanup } from './cleanup.js';
import { type Logger } from './logger.js';
import { SCHEDULE } from './schedule.js';
import { WebhookReceiver } from './webhook-receiver.js';

/** The job whose first webhook attempt the receiver refuses, so the report shows a retry. */
export const REFUSED_FIRST_ATTEMPT_OF_JOB = 1;

/**
 * What the servers the run starts need for `--webhook`: loopback receivers allowed (the receiver
 * is on 127.0.0.1), a schedule short enough that a retry lands within the run, and with several
 * instances one signing secret for all, so whichever sends a webhook signs it alike.
 */
export function webhookServerEnv(instances: number): Record<string, string> {
  return {
    WEBHOOK_ALLOW_PRIVATE: 'true',
    WEBHOOK_RETRY_SCHEDULE: SCHEDULE.webhookRetryScheduleMs.join(','),
    ...(instances > 1 && { WEBHOOK_SECRET: `whsec_${randomBytes(32).toString('base64')}` }),
  };
}

/** Starts the run's receiver on 127.0.0.1, closed by `cleanup`. */
export async function startWebhookReceiver(
  log: Logger,
  cleanup: Cleanup,
): Promise<WebhookReceiver> {
  const receiver = await WebhookReceiver.start({ log, failFirst: REFUSED_FIRST_ATTEMPT_OF_JOB });
  cleanup.defer(() => receiver.close());
  log.log('heygen-cli', 'webhook receiver is up', {
    url: receiver.url,
    refuses: `the first attempt for job ${REFUSED_FIRST_ATTEMPT_OF_JOB} (500)`,
  });
  return receiver;
}

/**
 * The secret the server signs this client's webhooks with (`GET /webhooks/secret`); a server
 * without webhooks, or one that does not answer, stops the run with one line.
 */
export async function fetchWebhookSecret(
  serverUrl: string,
  clientId: string,
  timeoutMs: number,
  apiKey?: string,
): Promise<string> {
  const url = `${serverUrl}/webhooks/secret?uuid=${encodeURIComponent(clientId)}`;
  let response: Response;
  try {
    response = await fetch(url, {
      signal: AbortSignal.timeout(timeoutMs),
      ...(apiKey !== undefined && { headers: { Authorization: `Bearer ${apiKey}` } }),
    });
  } catch (error) {
    throw new Error(`--webhook: GET ${url} failed (${(error as Error).message})`, {
      cause: error,
    });
  }
  const body = (await response.json().catch(() => undefined)) as { secret?: unknown } | undefined;
  if (response.status === 404) {
    throw new Error(
      `--webhook: ${serverUrl} has no webhooks (GET /webhooks/secret answered 404): it needs a heygen-api with webhooks (issue 19)`,
    );
  }
  if (!response.ok || typeof body?.secret !== 'string') {
    throw new Error(
      `--webhook: GET /webhooks/secret answered ${response.status} without a secret: the receiver could verify nothing`,
    );
  }
  return body.secret;
}

/**
 * POST /create refused the receiver's address: a server the run did not start, without
 * WEBHOOK_ALLOW_PRIVATE. One line that says what to change, instead of the HTTP error.
 */
export function refusedWebhookMessage(error: unknown, serverUrl: string): string | undefined {
  if ((error as { serverCode?: unknown } | undefined)?.serverCode !== 'WEBHOOK_URL_PRIVATE') {
    return undefined;
  }
  return `--webhook: ${serverUrl} refuses webhooks to the run's receiver on 127.0.0.1 (WEBHOOK_URL_PRIVATE): start that server with WEBHOOK_ALLOW_PRIVATE=true, or leave out --url`;
}
