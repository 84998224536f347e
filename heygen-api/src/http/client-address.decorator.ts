import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { addressKey } from './address-key.js';

/**
 * The address a request came from, as the per-address limits count it (address-key.ts): the
 * request's `ip`, which TRUST_PROXY decides, on either adapter.
 */
export const ClientAddress = createParamDecorator((_: unknown, context: ExecutionContext) =>
  addressKey(context.switchToHttp().getRequest<{ ip: string }>().ip),
);
