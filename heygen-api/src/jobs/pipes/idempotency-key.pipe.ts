import { type PipeTransform } from '@nestjs/common';
import { DomainError } from '../../errors/domain-error.js';
import { compileSchema } from '../../http/validation.js';
import { IDEMPOTENCY_KEY_SCHEMA } from '../schemas.js';

const isIdempotencyKey = compileSchema<string>(IDEMPOTENCY_KEY_SCHEMA);

/** The optional `Idempotency-Key` header (IDEMPOTENCY_KEY_SCHEMA). */
export class IdempotencyKeyPipe implements PipeTransform<unknown, string | undefined> {
  transform(value: unknown): string | undefined {
    if (value === undefined) return undefined;
    // Sent twice: which of the two keys would make the retry safe is anyone's guess.
    if (Array.isArray(value)) {
      throw new DomainError('INVALID_IDEMPOTENCY_KEY', 'Idempotency-Key must be sent once');
    }
    if (!isIdempotencyKey(value)) {
      throw new DomainError(
        'INVALID_IDEMPOTENCY_KEY',
        'Idempotency-Key must be 1 to 255 printable ASCII characters',
      );
    }
    return value;
  }
}
