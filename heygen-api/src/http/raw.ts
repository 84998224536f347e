import { type IncomingMessage, type ServerResponse } from 'node:http';
import { type Socket } from 'node:net';

/**
 * Node's own request and response under whatever Nest's adapter hands over: Express extends them,
 * Fastify wraps them (`request.raw`, `reply.raw`). What reads the body, the stream and the error
 * answer works on these, so that both adapters behave byte for byte alike (issue 10).
 */
export function rawRequest(req: object): IncomingMessage {
  return 'raw' in req ? (req.raw as IncomingMessage) : (req as IncomingMessage);
}

export function rawResponse(res: object): ServerResponse {
  return 'raw' in res ? (res.raw as ServerResponse) : (res as ServerResponse);
}

/**
 * The response a connection is answering now, if any: Node's `socket._httpMessage` (undocumented,
 * stable since Node 0.x), known here only.
 */
export function responseInFlight(socket: Socket): ServerResponse | undefined {
  return (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage ?? undefined;
}

/** What takeOverResponse uses of a Fastify reply. */
interface FastifyReplyLike {
  hijack(): void;
  getHeaders(): Record<string, number | string | string[] | undefined>;
  raw: ServerResponse;
}

const isFastifyReply = (res: object): res is FastifyReplyLike =>
  'hijack' in res && typeof res.hijack === 'function';

/**
 * The response, to be written directly from now on. Fastify must be told (`reply.hijack()`), or it
 * would answer again, or warn, once the handler returns; Express needs nothing. The headers set on
 * a Fastify reply so far (a guard's `X-RateLimit-*`) are Fastify's until it sends: they go to the
 * response now, or a hijacked answer (an error, a stream) would go without them.
 */
export function takeOverResponse(res: object): ServerResponse {
  if (!isFastifyReply(res)) return rawResponse(res);
  res.hijack();
  const { raw } = res;
  if (!raw.headersSent) {
    for (const [name, value] of Object.entries(res.getHeaders())) {
      if (value !== undefined) raw.setHeader(name, value);
    }
  }
  return raw;
}
