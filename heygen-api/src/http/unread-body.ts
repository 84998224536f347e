import { type IncomingMessage } from 'node:http';

/**
 * A request that declares a body not yet received in full. An answer given to it must close the
 * connection: to keep it, Node would read and discard the rest of the body, for as long as the
 * sender cares to send (issue 18).
 */
export function bodyLeftUnread(req: IncomingMessage): boolean {
  const declared =
    req.headers['transfer-encoding'] !== undefined ||
    Number(req.headers['content-length'] ?? 0) > 0;
  return declared && !req.complete;
}
