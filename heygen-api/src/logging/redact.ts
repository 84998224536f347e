/**
 * What logs may show of a client (issue 13: API keys and client ids never in full). A client key
 * is `<key scope>/<uuid>` or a bare uuid (domain/client.ts); eight characters of the uuid are
 * enough to follow one client through the logs and too few to act as it.
 */
export function shortClient(client: string): string {
  const uuid = client.slice(client.lastIndexOf('/') + 1);
  return `${uuid.slice(0, 8)}…`;
}

/** A request URL fit for a log line: the client's uuid shortened, an API key in the query removed. */
export function loggableUrl(url: string): string {
  if (!url.includes('?')) return url;
  return url
    .replace(/([?&]access_token=)[^&]*/gi, '$1[redacted]')
    .replace(/([?&]uuid=)([^&]{0,8})[^&]*/gi, '$1$2…');
}
