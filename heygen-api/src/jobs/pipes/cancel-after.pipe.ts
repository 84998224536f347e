import { type PipeTransform } from '@nestjs/common';
import { MAX_CANCEL_AFTER_MS, parseDuration } from '../../deadlines/duration.js';
import { DomainError } from '../../errors/domain-error.js';

/**
 * The optional `Cancel-After` header of POST /create (docs/protocol.md, "Deadlines"): a duration
 * greater than zero and at most a day, in ms. A header sent twice is refused (RequestHeader gives
 * its values as a list).
 */
export class CancelAfterPipe implements PipeTransform<unknown, number | undefined> {
  transform(value: unknown): number | undefined {
    if (value === undefined) return undefined;
    if (Array.isArray(value)) throw invalid('Cancel-After must be sent once');
    const ms = typeof value === 'string' ? parseDuration(value.trim()) : undefined;
    if (ms === undefined) {
      throw invalid('Cancel-After must be a duration such as 90s, 5m, 1h30m or 1500ms, or seconds');
    }
    if (ms <= 0) throw invalid('Cancel-After must be greater than zero');
    if (ms > MAX_CANCEL_AFTER_MS) throw invalid('Cancel-After must be at most 24h');
    return ms;
  }
}

const invalid = (message: string): DomainError => new DomainError('INVALID_CANCEL_AFTER', message);
