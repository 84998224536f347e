import { vi } from 'vitest';
import { requestJson, type JsonResponse } from './http.js';
import { newClientId } from './client-id.js';
import { type ApiError, type Batch, type Job } from 'heygen-test-support';

export interface JobsClientOptions {
  clientId?: string;
  /** Sent as `Authorization: Bearer <apiKey>` on every request. */
  apiKey?: string;
}

/** The JSON endpoints of one client, over real HTTP. Errors are returned, not thrown. */
export class JobsClient {
  readonly clientId: string;
  private readonly auth: Record<string, string>;

  constructor(
    readonly baseUrl: string,
    { clientId = newClientId(), apiKey }: JobsClientOptions = {},
  ) {
    this.clientId = clientId;
    this.auth = apiKey === undefined ? {} : { Authorization: `Bearer ${apiKey}` };
  }

  /** `path` with this client's `uuid` (and any extra query) appended. */
  url(path: string, query: Record<string, string> = {}): string {
    const params = new URLSearchParams({ uuid: this.clientId, ...query });
    return `${this.baseUrl}${path}?${params.toString()}`;
  }

  create(
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<JsonResponse<Job & ApiError>> {
    return requestJson(this.url('/create'), {
      method: 'POST',
      body,
      headers: { ...this.auth, ...headers },
    });
  }

  /** Creates a job and fails loudly unless it was created. */
  async createOk(body?: unknown): Promise<Job> {
    const res = await this.create(body);
    if (res.status !== 201) throw new Error(`create: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  }

  status(id: number | string): Promise<JsonResponse<Job & ApiError>> {
    return requestJson(this.url(`/status/${id}`), { headers: this.auth });
  }

  batch(ids?: (number | string)[] | string): Promise<JsonResponse<Batch & ApiError>> {
    const query = ids === undefined ? {} : { ids: typeof ids === 'string' ? ids : ids.join(',') };
    return requestJson(this.url('/status', query), { headers: this.auth });
  }

  /** A page of the list of all the client's jobs: `limit`, `startingAfter` and the rest as given. */
  page(query: Record<string, string>): Promise<JsonResponse<Batch & ApiError>> {
    return requestJson(this.url('/status', query), { headers: this.auth });
  }

  cancel(id: number | string): Promise<JsonResponse<Job & ApiError>> {
    return requestJson(this.url(`/cancel/${id}`), { method: 'POST', headers: this.auth });
  }

  /** Polls GET /status/:id until `done` holds; returns that job. */
  async waitFor(id: number, done: (job: Job) => boolean): Promise<Job> {
    return vi.waitFor(
      async () => {
        const { body } = await this.status(id);
        if (!done(body)) throw new Error(`job ${id} is ${body.status} (${body.progress}%)`);
        return body;
      },
      { timeout: 10_000, interval: 20 },
    );
  }
}
