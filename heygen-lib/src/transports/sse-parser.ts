import { SSEError } from '../errors/sse-error.js';

/** Receives one dispatched event: its type, its data, and the last event id so far. */
export type OnEvent = (type: string, data: string, id: string) => void;

/** The longest line, and the largest event, the parser holds: 1 MiB (in UTF-16 code units). */
export const MAX_EVENT_SIZE = 2 ** 20;

/**
 * A `text/event-stream` parser fed with decoded text chunks of any size. Its work is linear in
 * the input: a chunk is split once, never the text before it, and a line or an event past
 * {@link MAX_EVENT_SIZE} throws an SSEError, so an endless line costs neither CPU nor memory.
 * [spec] https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation
 */
export const createParser = (onEvent: OnEvent): ((chunk: string) => void) => {
  /** The line so far: what came after the last line break. */
  let partial = '';
  /** The last chunk ended with CR: a LF starting this one completes that CR LF. */
  let afterCr = false;
  let type = '';
  let data = '';
  let id = '';

  const line = (text: string): void => {
    if (!text) {
      // [spec] If the data buffer is an empty string, set the data buffer and the event type
      // buffer to the empty string and return. Remove a trailing LF from the data buffer.
      if (data) onEvent(type || 'message', data.slice(0, -1), id);
      type = data = '';
      return;
    }
    // [spec] If the line starts with a U+003A COLON character (:), ignore the line.
    const colon = text.indexOf(':');
    if (!colon) return;
    const field = colon < 0 ? text : text.slice(0, colon);
    // [spec] If a single U+0020 SPACE character follows the colon, remove it from value.
    const value = colon < 0 ? '' : text.slice(colon + (text[colon + 1] === ' ' ? 2 : 1));
    if (field === 'event') type = value;
    else if (field === 'data') {
      data += `${value}\n`;
      if (data.length > MAX_EVENT_SIZE) throw new SSEError('Event too large');
    }
    // [spec] If the field value does not contain U+0000 NULL, set the last event ID buffer.
    else if (field === 'id' && !value.includes('\0')) id = value;
    // `retry` is ignored: reconnection delays are this library's backoff.
  };

  return (chunk) => {
    // An empty chunk between a CR and its LF must not end the CR LF pair.
    if (!chunk) return;
    // [spec] Lines are separated by CR LF, a single LF, or a single CR.
    const text = afterCr && chunk.startsWith('\n') ? chunk.slice(1) : chunk;
    afterCr = text.endsWith('\r');
    const lines = text.split(/\r\n|\r|\n/);
    lines[0] = partial + lines[0];
    partial = lines.pop()!;
    if (partial.length > MAX_EVENT_SIZE) throw new SSEError('Line too long');
    lines.forEach(line);
  };
};
