import { percentDecoded } from '../http/percent-decoding.js';

/**
 * What logs may show of a client (issue 13: API keys and client ids never in full). A client key
 * is `<key scope>/<uuid>` or a bare uuid (domain/client.ts); eight characters of the uuid are
 * enough to follow one client through the logs and too few to act as it.
 */
export function shortClient(client: string): string {
  const uuid = client.slice(client.lastIndexOf('/') + 1);
  return `${uuid.slice(0, 8)}…`;
}

/**
 * A request URL fit for a log line: the client's uuid shortened, an API key in the query removed.
 * Parameters are known by their decoded name, as the server's query parser reads them:
 * `access%5Ftoken=` is an `access_token` (review of 2026-12-01: it was logged in clear).
 */
export function loggableUrl(url: string): string {
  const start = url.indexOf('?');
  if (start === -1) return url;
  const params = url
    .slice(start + 1)
    .split('&')
    .map((param) => {
      const equals = param.indexOf('=');
      const name = equals === -1 ? param : param.slice(0, equals);
      const decoded = decodedName(name);
      if (decoded === 'access_token') return `${name}=[redacted]`;
      // Any other spelling of the key's parameter is removed whole, its name included: a query
      // builder's `access_token[]=`, `+access_token=`, or `access_token%3D<key>`, whose name holds
      // the key (reviews of 2026-12-01: each was refused 401, and logged in clear).
      if (decoded.includes('access_token')) return '[redacted]';
      if (decoded === 'uuid' && equals !== -1)
        return `${name}=${param.slice(equals + 1, equals + 9)}…`;
      return param;
    });
  return `${url.slice(0, start + 1)}${params.join('&')}`;
}

function decodedName(name: string): string {
  return (percentDecoded(name.replace(/\+/g, ' ')) ?? name).toLowerCase();
}
