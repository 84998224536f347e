import { STATUS_CODES, type ServerResponse } from 'node:http';
import { type Socket } from 'node:net';
import { CODE_TO_STATUS, type ErrorCode } from '../errors/error-code.js';
import { responseInFlight } from './raw.js';

/** What Node's parser refused, by its error code: anything else is a malformed request. */
const REFUSALS: Record<string, { code: ErrorCode; message: string }> = {
  ERR_HTTP_REQUEST_TIMEOUT: {
    code: 'REQUEST_TIMEOUT',
    message: 'The request was not received in time',
  },
  HPE_HEADER_OVERFLOW: { code: 'HEADERS_TOO_LARGE', message: 'The request headers are too large' },
};
const MALFORMED = { code: 'BAD_REQUEST', message: 'The request is not valid HTTP' } as const;

/** Responses a refusal was written past (a body too slow: 408), with the status written. */
const refusedInFlight = new WeakMap<ServerResponse, number>();

/** The status Node's parser refusal answered in place of `res`, if it did. */
export const refusalAnswering = (res: ServerResponse): number | undefined =>
  refusedInFlight.get(res);

/**
 * Node's `clientError`: a request refused before any route sees it (a bad header, headers too
 * large, too slow). It gets the protocol's JSON error, on both adapters, where Node would send a
 * bare status line and Fastify its own shape (issue 10); then the connection is closed.
 * @returns the status answered, if any
 */
export function answerClientError(
  error: NodeJS.ErrnoException,
  socket: Socket,
): number | undefined {
  if (error.code === 'ECONNRESET' || socket.destroyed) return undefined;
  let answered: number | undefined;
  // As Node does: never write into a response already under way on this connection.
  const inFlight = responseInFlight(socket);
  if (socket.writable && !inFlight?.headersSent) {
    const { code, message } = REFUSALS[error.code ?? ''] ?? MALFORMED;
    const statusCode = writeClosingError(socket, code, message);
    answered = statusCode;
    if (inFlight) refusedInFlight.set(inFlight, statusCode);
  }
  socket.destroy(error);
  return answered;
}

/**
 * Node's `connect`: a `CONNECT` request, which no route sees (Node closed its connection without a
 * word). It gets the `404` any method of no route gets, after the answer of a request before it on
 * the connection (pipelined), and the connection is closed: destroyed once written, since Node
 * leaves a socket past its parser to its peer, which may keep it half open for good and hold every
 * graceful stop (self-review of 2026-12-01).
 * @returns the status answered
 */
export function refuseConnect(socket: Socket): number {
  const statusCode = CODE_TO_STATUS.NOT_FOUND;
  const answer = (): void => {
    if (socket.destroyed) return;
    writeClosingError(socket, 'NOT_FOUND', 'Cannot CONNECT: this is no proxy');
    socket.destroySoon();
  };
  const inFlight = responseInFlight(socket);
  if (inFlight && !inFlight.writableFinished) {
    inFlight.once('finish', answer);
    inFlight.once('close', () => socket.destroySoon());
  } else answer();
  return statusCode;
}

/** Writes the protocol's JSON error on a connection that ends with it. */
function writeClosingError(socket: Socket, code: ErrorCode, message: string): number {
  const statusCode = CODE_TO_STATUS[code];
  const body = JSON.stringify({ statusCode, error: STATUS_CODES[statusCode], code, message });
  socket.write(
    `HTTP/1.1 ${statusCode} ${STATUS_CODES[statusCode]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
  return statusCode;
}
