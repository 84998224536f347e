import proxyAddr from 'proxy-addr';
import { type TrustProxy } from '../config/app-config.js';

/**
 * Which peers' `X-Forwarded-For` to believe, as one function of the address and its hop (0: the
 * peer itself), the form Express's `trust proxy`, Fastify's `trustProxy` and proxy-addr all take:
 * the request log, the rate limits and `request.ip` then name the same client. A hop count trusts
 * the nearest n.
 */
export function trustFunction(trustProxy: TrustProxy): (address: string, hop: number) => boolean {
  if (typeof trustProxy === 'boolean') return () => trustProxy;
  if (typeof trustProxy === 'number') return (_address, hop) => hop < trustProxy;
  return proxyAddr.compile(trustProxy);
}
