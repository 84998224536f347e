import { type IncomingMessage, type ServerResponse } from 'node:http';

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
 * The response, to be written directly from now on. Fastify must be told (`reply.hijack()`), or it
 * would answer again, or warn, once the handler returns; Express needs nothing.
 */
export function takeOverResponse(res: object): ServerResponse {
  if ('hijack' in res && typeof res.hijack === 'function') (res.hijack as () => void).call(res);
  return rawResponse(res);
}
