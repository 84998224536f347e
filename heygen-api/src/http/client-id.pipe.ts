import { type PipeTransform } from '@nestjs/common';
import { DomainError } from '../errors/domain-error.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The `uuid` query parameter that names the calling client: a UUID in canonical form, lower-cased. */
export class ClientIdPipe implements PipeTransform<unknown, string> {
  transform(value: unknown): string {
    if (typeof value !== 'string' || !UUID.test(value)) {
      throw new DomainError(
        'INVALID_CLIENT_ID',
        'The query parameter uuid must name the client with a UUID such as 123e4567-e89b-42d3-a456-426614174000',
      );
    }
    return value.toLowerCase();
  }
}
