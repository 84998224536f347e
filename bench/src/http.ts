import { Agent, request } from 'node:http';

export interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A pooled keep-alive agent: the bench's own requests should cost the server as little as a real client's. */
export const agent = new Agent({ keepAlive: true, maxSockets: 64 });

/** One HTTP request over the shared agent, with a 30 s bound. */
export function send(
  url: string,
  method = 'GET',
  body?: string,
  headers: Record<string, string> = {},
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        agent,
        timeout: 30_000,
        headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timeout: ${method} ${url}`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** Runs `task` for 0..count-1 with at most `concurrency` in flight. */
export async function pooled(
  count: number,
  concurrency: number,
  task: (index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}

/** A few hundred requests of every kind, so that measurements do not include the JIT's first passes. */
export async function warmUp(base: string): Promise<void> {
  const uuid = crypto.randomUUID();
  await pooled(300, 8, async (i) => {
    const created = await send(
      `${base}/create?uuid=${uuid}`,
      'POST',
      i % 2 ? '{"duration":0}' : undefined,
    );
    const { id } = JSON.parse(created.body) as { id: number };
    await send(`${base}/status/${id}?uuid=${uuid}`);
  });
}
