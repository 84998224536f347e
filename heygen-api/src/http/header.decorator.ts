import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { type Request } from 'express';

/** One request header by lower-case name; unlike `@Headers()`, it accepts pipes that validate it. */
export const Header = createParamDecorator(
  (name: string, context: ExecutionContext): string | string[] | undefined =>
    context.switchToHttp().getRequest<Request>().headers[name],
);
