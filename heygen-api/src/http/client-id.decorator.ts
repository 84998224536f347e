import { createParamDecorator, type ExecutionContext, type PipeTransform } from '@nestjs/common';
import { CLIENT_SCOPE, clientKey, type ClientKey } from '../domain/client.js';
import { DomainError } from '../errors/domain-error.js';
import { compileSchema, type JsonSchema } from './validation.js';

/** The `uuid` query parameter: a UUID in canonical form, any case (issue 10: one schema, checked and documented). */
export const CLIENT_ID_SCHEMA: JsonSchema = {
  type: 'string',
  pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$',
  example: '123e4567-e89b-42d3-a456-426614174000',
};
const isClientId = compileSchema<string>(CLIENT_ID_SCHEMA);

interface ClientParts {
  uuid: unknown;
  /** The scope of the API key the request presented (set by ApiKeyGuard), when keys are on. */
  scope: string | undefined;
}

/**
 * The `uuid` query parameter that names the calling client, lower-cased, within the scope of the
 * request's API key (domain/client.ts).
 */
export class ClientIdPipe implements PipeTransform<ClientParts, ClientKey> {
  transform({ uuid, scope }: ClientParts): ClientKey {
    if (!isClientId(uuid)) {
      throw new DomainError(
        'INVALID_CLIENT_ID',
        'The query parameter uuid must name the client with a UUID such as 123e4567-e89b-42d3-a456-426614174000',
      );
    }
    return clientKey(uuid.toLowerCase(), scope);
  }
}

interface ClientRequest {
  query: Record<string, unknown>;
  [CLIENT_SCOPE]?: string;
}

const clientParts = createParamDecorator((_: unknown, context: ExecutionContext): ClientParts => {
  const req = context.switchToHttp().getRequest<ClientRequest>();
  return { uuid: req.query.uuid, scope: req[CLIENT_SCOPE] };
});

/** The calling client: its `uuid` query parameter within its API key's scope, validated. */
export const ClientId = (): ParameterDecorator => clientParts(undefined, ClientIdPipe);
