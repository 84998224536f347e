import { request } from 'node:http';
import { type JsonRequestInit, type JsonResponse } from './http.js';

export interface RequestOnceInit extends JsonRequestInit {
  /** Fails the request (and so the test) when no whole answer came within this. @default 5000 */
  timeoutMs?: number;
}

/**
 * One HTTP request on a connection of its own, closed after the answer: behind a TCP balancer,
 * every request is then balanced anew (fetch would keep reusing one pooled connection). The body
 * is JSON-encoded and the answer JSON-decoded, as requestJson does.
 */
export function requestOnce<T = unknown>(
  url: string,
  { method = 'GET', headers = {}, body, timeoutMs = 5000 }: RequestOnceInit = {},
): Promise<JsonResponse<T>> {
  const payload =
    body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method,
      agent: false,
      headers: {
        Connection: 'close',
        ...(payload !== undefined && { 'Content-Type': 'application/json' }),
        ...headers,
      },
      signal: AbortSignal.timeout(timeoutMs),
    });
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        const answer = new Headers();
        for (const [name, value] of Object.entries(res.headers)) {
          if (value !== undefined)
            answer.set(name, Array.isArray(value) ? value.join(', ') : value);
        }
        try {
          resolve({
            status: res.statusCode ?? 0,
            headers: answer,
            body: (text === '' ? undefined : JSON.parse(text)) as T,
          });
        } catch (error) {
          reject(new Error(`${method} ${url}: not JSON: ${text.slice(0, 200)}`, { cause: error }));
        }
      });
      res.on('error', reject);
    });
    req.on('error', (error) =>
      reject(new Error(`${method} ${url}: ${error.message}`, { cause: error })),
    );
    req.end(payload);
  });
}
