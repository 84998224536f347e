import { type PipeTransform } from '@nestjs/common';
import { parsePreferWait } from './prefer.js';

/**
 * The `Prefer` request header → the seconds of wait it asks for (Infinity: the longest), or
 * undefined. Never throws: a preference the server cannot use is ignored (RFC 7240 §2).
 */
export class PreferWaitPipe implements PipeTransform<unknown, number | undefined> {
  transform(value: unknown): number | undefined {
    if (typeof value !== 'string' && !Array.isArray(value)) return undefined;
    return parsePreferWait(value as string | string[]);
  }
}
