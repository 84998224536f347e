import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { pooled, send, warmUp } from '../http.js';
import { measureLoad } from '../load.js';
import { startServer } from '../server.js';
import { distribution, round, sleep, type Distribution } from '../stats.js';

export interface WebhooksOptions {
  /** Jobs created with a webhook for the delay figure. */
  jobs: number;
  jobTimeMs: number;
  /** The creations are spread over this window, ms. */
  createWindowMs: number;
  /** autocannon on POST /create, with and without a webhook, in turns. */
  throughput: { connections: number; durationS: number; warmUpS: number; rounds: number };
}

/** One autocannon run of POST /create. */
export interface CreateRate {
  round: number;
  webhooks: boolean;
  /**
   * The jobs' length: `JOB_TIME` (they finish, and are delivered, during the run) or a minute
   * (none finishes: the create path alone).
   */
  jobTimeMs: number;
  requestsPerS: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
}

export interface WebhooksResult {
  jobs: number;
  jobTimeMs: number;
  /** Final-state deliveries received − the job's `finishedAt`, ms. */
  delayMs: Distribution;
  /** Jobs whose final delivery never came within the wait. */
  lost: number;
  /** Deliveries of the same event id received more than once (at least once allows it). */
  duplicates: number;
  /** Deliveries received per second between the first and the last. */
  deliveriesPerS: number;
  createRates: CreateRate[];
  /** Mean create rate with webhooks over without, same run, jobs delivered during it. */
  createRatio: number;
  /** The same with jobs that outlast the run: what a webhook adds to the create path (≥ 0.8). */
  createPathRatio: number;
}

/**
 * Jobs that outlast the warm-up and the measured run: no delivery competes with the creations.
 * They pile up meanwhile (100,000 and more), so for those runs, in both variants, the active-job
 * limits are raised and progress is not ticked (200,000 progress changes a second otherwise).
 */
const LONG_JOB_MS = 20_000;
const PILE_UP = {
  MAX_ACTIVE_JOBS: '2000000',
  MAX_ACTIVE_JOBS_PER_CLIENT: '1000000',
  PROGRESS_INTERVAL_MS: '3600000',
};

interface Receipt {
  at: number;
  /** `<client>/<webhook-id>`: event ids, like job ids, are counted per client. */
  event: string;
  /** `<client>/<job id>`. */
  job: string;
  finishedAt?: string;
}

/** A local receiver that answers every delivery 204 at once and notes when each came. */
async function startReceiver(): Promise<{ url: string; receipts: Receipt[]; server: Server }> {
  const receipts: Receipt[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const at = Date.now();
      res.writeHead(204).end();
      try {
        const { client, data } = JSON.parse(Buffer.concat(chunks).toString()) as {
          client: string;
          data: { id: number; finishedAt?: string };
        };
        receipts.push({
          at,
          event: `${client}/${String(req.headers['webhook-id'])}`,
          job: `${client}/${data.id}`,
          ...(data.finishedAt !== undefined && { finishedAt: data.finishedAt }),
        });
      } catch {
        // Not ours: counted as nothing.
      }
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hook`, receipts, server };
}

/**
 * Scenario 11 (issue 19): webhooks to a local receiver. The delay of `jobs` final-state
 * deliveries (received − `finishedAt`), the deliveries per second, and POST /create's rate with a
 * webhook against without one, on fresh servers taking turns in the same run.
 */
export async function runWebhooks(options: WebhooksOptions): Promise<WebhooksResult> {
  const receiver = await startReceiver();
  try {
    const delay = await measureDelay(options, receiver);
    const createRates: CreateRate[] = [];
    for (let r = 1; r <= options.throughput.rounds; r += 1) {
      for (const jobTimeMs of [options.jobTimeMs, LONG_JOB_MS]) {
        for (const webhooks of [false, true]) {
          createRates.push(await measureCreateRate(options, jobTimeMs, receiver.url, webhooks, r));
        }
      }
    }
    const mean = (webhooks: boolean, jobTimeMs: number): number => {
      const rates = createRates.filter(
        (rate) => rate.webhooks === webhooks && rate.jobTimeMs === jobTimeMs,
      );
      return rates.reduce((sum, rate) => sum + rate.requestsPerS, 0) / rates.length;
    };
    const ratio = (jobTimeMs: number): number =>
      round(mean(true, jobTimeMs) / mean(false, jobTimeMs), 2);
    return {
      jobs: options.jobs,
      jobTimeMs: options.jobTimeMs,
      ...delay,
      createRates,
      createRatio: ratio(options.jobTimeMs),
      createPathRatio: ratio(LONG_JOB_MS),
    };
  } finally {
    receiver.server.closeAllConnections();
    receiver.server.close();
  }
}

async function measureDelay(
  { jobs, jobTimeMs, createWindowMs }: WebhooksOptions,
  receiver: { url: string; receipts: Receipt[] },
): Promise<Pick<WebhooksResult, 'delayMs' | 'lost' | 'duplicates' | 'deliveriesPerS'>> {
  const server = await startServer({
    env: { JOB_TIME: String(jobTimeMs), WEBHOOK_ALLOW_PRIVATE: 'true' },
  });
  try {
    await warmUp(server.url);
    receiver.receipts.length = 0;
    // Spread over the window, 16 clients, so that the finishes are spread too.
    const clients = Array.from({ length: 16 }, () => crypto.randomUUID());
    const ids = new Set<string>();
    const started = Date.now();
    await pooled(jobs, 16, async (index) => {
      const due = started + (createWindowMs * index) / jobs;
      if (due > Date.now()) await sleep(due - Date.now());
      const client = clients[index % clients.length]!;
      const { status, body } = await send(
        `${server.url}/create?uuid=${client}`,
        'POST',
        JSON.stringify({ webhook: receiver.url }),
      );
      if (status !== 201) throw new Error(`create with a webhook: ${status} ${body}`);
      ids.add(`${client}/${(JSON.parse(body) as { id: number }).id}`);
    });
    // Every final delivery, or the wait runs out.
    const deadline = Date.now() + jobTimeMs + createWindowMs + 30_000;
    const finals = (): Receipt[] =>
      receiver.receipts.filter((r) => r.finishedAt !== undefined && ids.has(r.job));
    while (new Set(finals().map((r) => r.job)).size < ids.size && Date.now() < deadline) {
      await sleep(50);
    }
    const received = finals();
    const firstById = new Map<string, Receipt>();
    for (const receipt of received) {
      if (!firstById.has(receipt.job)) firstById.set(receipt.job, receipt);
    }
    const times = received.map((r) => r.at).sort((a, b) => a - b);
    const spanS = times.length > 1 ? (times.at(-1)! - times[0]!) / 1000 : 0;
    return {
      delayMs: distribution([...firstById.values()].map((r) => r.at - Date.parse(r.finishedAt!))),
      lost: ids.size - firstById.size,
      duplicates: received.length - new Set(received.map((r) => r.event)).size,
      deliveriesPerS: spanS > 0 ? Math.round(received.length / spanS) : received.length,
    };
  } finally {
    await server.stop();
  }
}

async function measureCreateRate(
  { throughput: { connections, durationS, warmUpS } }: WebhooksOptions,
  jobTimeMs: number,
  receiverUrl: string,
  webhooks: boolean,
  roundNumber: number,
): Promise<CreateRate> {
  const server = await startServer({
    env: {
      JOB_TIME: String(jobTimeMs),
      WEBHOOK_ALLOW_PRIVATE: 'true',
      ...(jobTimeMs === LONG_JOB_MS && PILE_UP),
    },
  });
  try {
    await warmUp(server.url);
    const body = JSON.stringify(webhooks ? { webhook: receiverUrl } : {});
    const uuids = Array.from({ length: connections }, () => crypto.randomUUID());
    const result = await measureLoad({
      url: server.url,
      connections,
      durationS,
      warmUpS,
      requestFor: (index) => ({
        method: 'POST',
        path: `/create?uuid=${uuids[index]}`,
        headers: { 'content-type': 'application/json' },
        body,
      }),
    });
    return {
      round: roundNumber,
      webhooks,
      jobTimeMs,
      requestsPerS: Math.round(result['2xx'] / result.duration),
      p99Ms: result.latency.p99,
      non2xx: result.non2xx,
      errors: result.errors + result.timeouts,
    };
  } finally {
    await server.stop();
  }
}
