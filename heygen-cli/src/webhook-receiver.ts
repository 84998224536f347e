import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { type AddressInfo } from 'node:net';
import { type Job } from 'heygen-lib';
import { verifyWebhook } from 'heygen-lib/webhooks';
import { type Logger } from './logger.js';

/** What the receiver got of one job's final event (issue 19: `--webhook`). */
export interface WebhookReceipt {
  /** `webhook-id`: the event's id, the same as the stream's `id:` for that change. */
  eventId: string;
  /** The job's status in the payload: `completed`, `failed` or `cancelled`. */
  status: string;
  /** Verified attempts that carried it, the refused one included. */
  attempts: number;
  /** Client clock, ms since the epoch: the attempt the receiver accepted (2xx) arrived. */
  receivedAt?: number;
}

/** Every request the receiver answered, over the run. */
export interface WebhookTotals {
  /** Webhook requests received (every attempt of every event). */
  deliveries: number;
  /** Those whose signature checked out. */
  verified: number;
  /** Those answered 400: a missing or malformed header, an old timestamp, a wrong signature. */
  failedVerification: number;
  /** Attempts after the first of an event: what the server's retry schedule sent. */
  retries: number;
}

/** The body of a heygen-api webhook (docs/protocol.md, "Webhooks"). */
interface WebhookPayload {
  type: string;
  timestamp: string;
  data: Job;
}

const FINAL = new Set(['completed', 'failed', 'cancelled']);
/** A job object is well under this; a receiver reads no more (issue 19: a bounded read). */
const MAX_BODY_BYTES = 1 << 20;

/**
 * The run's webhook receiver: plain node:http on 127.0.0.1, a free port. Job `n` is created with
 * `<url>/jobs/<n>`, so the receiver knows job 1 by its path before the job's id is known (its
 * webhook may come before createJob returns). Every request is checked with `verifyWebhook`
 * (400 when it fails); job `failFirst`'s first attempt is answered 500 to make the server retry;
 * every other one 204.
 */
export class WebhookReceiver {
  readonly #receipts = new Map<number, WebhookReceipt>();
  readonly #totals = { deliveries: 0, verified: 0, failedVerification: 0 };
  readonly #waiters = new Set<() => void>();
  #secret: string | undefined;

  private constructor(
    readonly url: string,
    private readonly server: ReturnType<typeof createServer>,
    private readonly log: Logger,
    private readonly failFirst: number | undefined,
  ) {}

  /** `failFirst`: the job (by number, 1-based) whose first attempt is answered 500. */
  static async start({
    log,
    failFirst,
  }: {
    log: Logger;
    failFirst?: number;
  }): Promise<WebhookReceiver> {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    const receiver = new WebhookReceiver(`http://127.0.0.1:${port}`, server, log, failFirst);
    server.on('request', (request: IncomingMessage, response: ServerResponse) => {
      receiver.#handle(request, response).catch((error: unknown) => {
        log.error('heygen-cli', `webhook receiver: ${(error as Error).message}`);
        response.destroy();
      });
    });
    return receiver;
  }

  /** The signing secret (`GET /webhooks/secret`); until it is set, every request fails. */
  set secret(secret: string) {
    this.#secret = secret;
  }

  /** The webhook URL of job `n` (1-based). */
  urlFor(n: number): string {
    return `${this.url}/jobs/${n}`;
  }

  /** What arrived of job `id`'s final event, if anything did. */
  receipt(id: number): WebhookReceipt | undefined {
    return this.#receipts.get(id);
  }

  totals(): WebhookTotals {
    let retries = 0;
    for (const { attempts } of this.#receipts.values()) retries += Math.max(0, attempts - 1);
    return { ...this.#totals, retries };
  }

  /**
   * Resolves once the final event of every job of `ids` was accepted, `true`; or `false` after
   * `timeoutMs`.
   */
  async waitFor(ids: number[], timeoutMs: number): Promise<boolean> {
    const done = (): boolean => ids.every((id) => this.#receipts.get(id)?.receivedAt !== undefined);
    if (done()) return true;
    return new Promise((resolve) => {
      const check = (): void => {
        if (!done()) return;
        finish(true);
      };
      const finish = (result: boolean): void => {
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve(result);
      };
      const timer = setTimeout(() => finish(false), timeoutMs);
      this.#waiters.add(check);
    });
  }

  /** Stops listening and drops the server's keep-alive connections. */
  async close(): Promise<void> {
    const closed = once(this.server, 'close');
    this.server.close();
    this.server.closeAllConnections();
    await closed;
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const arrivedAt = Date.now();
    const n = Number(/^\/jobs\/(\d+)$/.exec(request.url ?? '')?.[1] ?? NaN);
    if (request.method !== 'POST' || !Number.isSafeInteger(n)) {
      request.resume();
      return void response.writeHead(404).end();
    }
    const body = await readBody(request);
    // Past the bound the connection is cut: the server records the attempt as failed.
    if (body === undefined) return;
    this.#totals.deliveries += 1;

    let payload: WebhookPayload;
    try {
      if (this.#secret === undefined) throw new Error('no signing secret yet');
      payload = await verifyWebhook<WebhookPayload>(body, request.headers, this.#secret);
    } catch (error) {
      this.#totals.failedVerification += 1;
      this.log.error('heygen-cli', `webhook for job n=${n} failed verification: answered 400`, {
        reason: (error as { reason?: string }).reason ?? (error as Error).message,
      });
      return void response.writeHead(400).end();
    }
    this.#totals.verified += 1;

    const job = payload.data;
    const eventId = String(request.headers['webhook-id']);
    if (!FINAL.has(job.status)) {
      this.log.log('heygen-cli', `webhook job ${job.id} ${job.status} verified`, { eventId });
      return void response.writeHead(204).end();
    }
    const receipt = this.#receipts.get(job.id) ?? { eventId, status: job.status, attempts: 0 };
    this.#receipts.set(job.id, receipt);
    receipt.attempts += 1;
    const finishedAt = job.finishedAt ? Date.parse(job.finishedAt) : undefined;
    if (n === this.failFirst && receipt.attempts === 1) {
      this.log.log('heygen-cli', `webhook job ${job.id} ${job.status} verified: answered 500`, {
        attempt: 1,
        why: 'the first attempt for this job is refused, to show the retry',
      });
      return void response.writeHead(500).end();
    }
    response.writeHead(204).end();
    if (receipt.receivedAt !== undefined) return;
    receipt.receivedAt = arrivedAt;
    this.log.log('heygen-cli', `webhook job ${job.id} ${job.status} verified`, {
      attempt: receipt.attempts,
      delayMs: finishedAt === undefined ? undefined : arrivedAt - finishedAt,
    });
    for (const check of this.#waiters) check();
  }
}

/** The raw body, as the signature covers it; past {@link MAX_BODY_BYTES}, cut and `undefined`. */
async function readBody(request: IncomingMessage): Promise<Uint8Array | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) {
      request.destroy();
      return undefined;
    }
    chunks.push(chunk);
  }
  return new Uint8Array(Buffer.concat(chunks));
}
