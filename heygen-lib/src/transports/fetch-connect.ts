import { SSEError } from '../errors/sse-error.js';
import type { Http } from '../http.js';
import { createParser } from './sse-parser.js';
import type { Connect } from './sse-transport.js';

/**
 * Streams over `fetch` with a readable body: SSE in Node without a polyfill, and able to send
 * every header, asked for anew on each connect (issue 19: a refreshed token on reconnect). A
 * headers function that fails, or never settles, fails the connection like a lost one.
 */
export const fetchConnect =
  ({ fetch, headers }: Pick<Http, 'fetch' | 'headers'>): Connect =>
  (url, on) => {
    const abort = new AbortController();
    const run = async (): Promise<never> => {
      const res = await fetch(url, {
        headers: { ...(await headers()), Accept: 'text/event-stream' },
        signal: abort.signal,
      });
      // [spec] A response whose status is not 200 or whose Content-Type is not
      // text/event-stream fails the connection.
      if (
        res.status !== 200 ||
        !res.body ||
        !/^text\/event-stream/i.test(res.headers.get('content-type') ?? '')
      ) {
        throw new SSEError(`HTTP ${res.status}`, res.status);
      }
      const reader = res.body.getReader();
      const decoder = new TextDecoder();
      const parse = createParser(on.event);
      for (;;) {
        const { done, value } = await reader.read();
        if (done || !value) throw new SSEError('Stream ended');
        on.data(value.length);
        parse(decoder.decode(value, { stream: true }));
      }
    };
    run().catch((error: unknown) => {
      if (!abort.signal.aborted) {
        on.fail(error instanceof SSEError ? error : new SSEError('Stream lost', 0, error));
      }
    });
    return () => abort.abort();
  };
