import { HeyGenError } from './heygen-error.js';

/** A server message was not the JSON it should be. */
export class MessageParseError extends HeyGenError {
  /** Always `'MessageParseError'`, so {@link isHeyGenError} recognizes it from another copy of the library. */
  override name = 'MessageParseError';

  /** @param line - the raw text that failed to parse */
  constructor(
    readonly line: string,
    cause?: unknown,
  ) {
    super('MESSAGE_PARSE', `Bad message: ${line}`, cause);
  }
}
