/**
 * A client is its API key and its uuid (issue 18): with keys on, the same uuid under two keys is
 * two clients, who never see each other's jobs. The key is represented by a scope, a short digest,
 * never by the key itself; without keys the client is its uuid alone.
 */
export type ClientKey = string;

/**
 * Where the API-key guard leaves the scope of the key a request presented, for the parameter
 * decorator that names the client. A symbol: no header or query can set it.
 */
export const CLIENT_SCOPE = Symbol('heygen.clientScope');

export function clientKey(uuid: string, scope?: string): ClientKey {
  return scope === undefined ? uuid : `${scope}/${uuid}`;
}

/** The uuid a client named itself with: what the stream's `connected` event tells it back. */
export function uuidOf(client: ClientKey): string {
  return client.slice(client.lastIndexOf('/') + 1);
}
