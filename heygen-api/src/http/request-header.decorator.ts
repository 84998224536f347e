import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { rawRequest } from './raw.js';

/**
 * One request header by lower-case name; unlike `@Headers()`, it accepts pipes that validate it.
 * Not named `Header`: Nest's own `@Header()` sets a response header.
 *
 * A header sent more than once comes as the list of its values: Node joins them with ", ", which
 * a pipe could not tell from one value holding a comma (two `Idempotency-Key`s were one key).
 */
export const RequestHeader = createParamDecorator(
  (name: string, context: ExecutionContext): string | string[] | undefined => {
    const req = rawRequest(context.switchToHttp().getRequest<object>());
    const value = req.headers[name];
    // Only a value with a comma may be several: the common request never builds the list.
    if (typeof value === 'string' && value.includes(',')) {
      const values = req.headersDistinct[name];
      if (values && values.length > 1) return values;
    }
    return value;
  },
);
