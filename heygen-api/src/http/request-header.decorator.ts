import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { type IncomingHttpHeaders } from 'node:http';

/**
 * One request header by lower-case name; unlike `@Headers()`, it accepts pipes that validate it.
 * Not named `Header`: Nest's own `@Header()` sets a response header.
 */
export const RequestHeader = createParamDecorator(
  (name: string, context: ExecutionContext): string | string[] | undefined =>
    context.switchToHttp().getRequest<{ headers: IncomingHttpHeaders }>().headers[name],
);
