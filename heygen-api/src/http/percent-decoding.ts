/**
 * `text` percent-decoded, or undefined when it is not valid percent-encoding (`%ZZ`, a bare `%`,
 * a broken UTF-8 sequence): one place for what the routes, the logs and the docs page's headers
 * each need to know of a request target.
 */
export function percentDecoded(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}
