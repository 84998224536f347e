import { connect, type Socket } from 'node:net';
import { onTestFinished, vi } from 'vitest';

/** One HTTP response as it came over the wire. */
export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  /** The body as text, chunked framing removed. */
  body: string;
}

/**
 * A TCP connection that speaks HTTP by hand, as an attacker would: pipelined requests, HEAD, bodies
 * that never come. What the server sends is kept as text, and can be parsed into responses.
 */
export class RawConnection {
  received = '';
  closed = false;
  readonly socket: Socket;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (this.received += chunk));
    socket.on('close', () => (this.closed = true));
    socket.on('error', () => {});
  }

  static async open(baseUrl: string): Promise<RawConnection> {
    const { hostname, port } = new URL(baseUrl);
    const socket = connect({ host: hostname, port: Number(port) });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const connection = new RawConnection(socket);
    onTestFinished(() => {
      socket.destroy();
    });
    return connection;
  }

  write(text: string): void {
    this.socket.write(text);
  }

  /** Waits until what was received satisfies `done` (default 5 s). */
  async waitFor(done: (received: string) => boolean, timeout = 5000): Promise<string> {
    await vi.waitFor(
      () => {
        if (!done(this.received)) throw new Error(`so far: ${JSON.stringify(this.received)}`);
      },
      { timeout, interval: 10 },
    );
    return this.received;
  }

  /** Waits until the server has closed the connection. */
  async waitForClose(timeout = 5000): Promise<void> {
    await vi.waitFor(
      () => {
        if (!this.closed) throw new Error('still open');
      },
      { timeout, interval: 10 },
    );
  }

  /** The complete responses received so far, in order (a stream's is cut at what has come). */
  responses(): RawResponse[] {
    return parseResponses(this.received);
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** A request written by hand; `headers` as given, `Host` added. */
export function rawRequest(
  method: string,
  path: string,
  headers: Record<string, string | number> = {},
  body = '',
): string {
  const lines = Object.entries({ Host: 'localhost', ...headers }).map(([k, v]) => `${k}: ${v}`);
  return `${method} ${path} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n${body}`;
}

/**
 * Splits received text into responses. A HEAD response, like a 1xx, 204 or 304, has no body
 * whatever its headers say: the caller says which statuses answered a HEAD with `heads`.
 */
export function parseResponses(text: string, heads = new Set<number>()): RawResponse[] {
  const responses: RawResponse[] = [];
  let rest = text;
  let index = 0;
  while (rest.startsWith('HTTP/1.1 ')) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) break;
    const [statusLine, ...headerLines] = rest.slice(0, end).split('\r\n');
    const headers: Record<string, string> = {};
    for (const line of headerLines) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
    }
    const status = Number(statusLine!.split(' ')[1]);
    rest = rest.slice(end + 4);
    let body = '';
    if (heads.has(index)) {
      // No body.
    } else if (headers['content-length'] !== undefined) {
      const length = Number(headers['content-length']);
      body = rest.slice(0, length);
      rest = rest.slice(length);
    } else if (headers['transfer-encoding'] === 'chunked') {
      for (;;) {
        const lineEnd = rest.indexOf('\r\n');
        if (lineEnd < 0) break;
        const size = parseInt(rest.slice(0, lineEnd), 16);
        if (Number.isNaN(size)) break;
        const chunk = rest.slice(lineEnd + 2, lineEnd + 2 + size);
        rest = rest.slice(lineEnd + 2 + chunk.length);
        if (size === 0) {
          rest = rest.replace(/^\r\n/, '');
          break;
        }
        body += chunk;
        if (chunk.length < size) break;
        rest = rest.replace(/^\r\n/, '');
      }
    }
    responses.push({ status, headers, body });
    index += 1;
  }
  return responses;
}
