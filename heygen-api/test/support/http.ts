/** A response with its body parsed as JSON when it has one. */
export interface JsonResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

export interface JsonRequestInit {
  method?: string;
  headers?: Record<string, string>;
  /** Sent as JSON unless it is already a string (sent as is, to test malformed bodies). */
  body?: unknown;
}

/** One HTTP request with fetch; the body is JSON-encoded and the answer JSON-decoded. */
export async function requestJson<T = unknown>(
  url: string,
  { method = 'GET', headers = {}, body }: JsonRequestInit = {},
): Promise<JsonResponse<T>> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    init.headers = { 'Content-Type': 'application/json', ...headers };
  }
  const res = await fetch(url, init);
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    body: (text === '' ? undefined : JSON.parse(text)) as T,
  };
}
