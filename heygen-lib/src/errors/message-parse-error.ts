import { HeyGenError } from './heygen-error.js';

/** A server message was not the JSON it should be. */
export class MessageParseError extends HeyGenError {
  /** The `name` of its errors, also from another copy of the library (see HeyGenError). */
  static override readonly errorName: string = 'MessageParseError';

  /** @param line - the raw text that failed to parse */
  constructor(
    readonly line: string,
    cause?: unknown,
  ) {
    super('MESSAGE_PARSE', `Bad message: ${line}`, cause);
  }
}
