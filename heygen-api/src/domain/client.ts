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

/**
 * Who answers for a client: its API key (the key's scope) when keys are on, since one key may
 * name any number of uuids, each a client; without keys, the uuid itself. What a budget shared by
 * a client's uuids is counted against (the webhook attempts in flight).
 */
export function ownerOf(client: ClientKey): string {
  const slash = client.lastIndexOf('/');
  return slash === -1 ? client : client.slice(0, slash);
}

/** The uuid a client named itself with: what the stream's `connected` event tells it back. */
export function uuidOf(client: ClientKey): string {
  return client.slice(client.lastIndexOf('/') + 1);
}
