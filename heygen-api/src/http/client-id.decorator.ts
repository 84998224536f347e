import { createParamDecorator, type ExecutionContext, type PipeTransform } from '@nestjs/common';
import { type Request } from 'express';
import { CLIENT_SCOPE, clientKey, type ClientKey } from '../domain/client.js';
import { DomainError } from '../errors/domain-error.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface ClientParts {
  uuid: unknown;
  /** The scope of the API key the request presented (set by ApiKeyGuard), when keys are on. */
  scope: string | undefined;
}

/**
 * The `uuid` query parameter that names the calling client: a UUID in canonical form, lower-cased,
 * within the scope of the request's API key (domain/client.ts).
 */
export class ClientIdPipe implements PipeTransform<ClientParts, ClientKey> {
  transform({ uuid, scope }: ClientParts): ClientKey {
    if (typeof uuid !== 'string' || !UUID.test(uuid)) {
      throw new DomainError(
        'INVALID_CLIENT_ID',
        'The query parameter uuid must name the client with a UUID such as 123e4567-e89b-42d3-a456-426614174000',
      );
    }
    return clientKey(uuid.toLowerCase(), scope);
  }
}

const clientParts = createParamDecorator((_: unknown, context: ExecutionContext): ClientParts => {
  const req = context.switchToHttp().getRequest<Request & { [CLIENT_SCOPE]?: string }>();
  return { uuid: req.query.uuid, scope: req[CLIENT_SCOPE] };
});

/** The calling client: its `uuid` query parameter within its API key's scope, validated. */
export const ClientId = (): ParameterDecorator => clientParts(undefined, ClientIdPipe);
