/** Receives one dispatched event: its type, its data, and the last event id so far. */
export type OnEvent = (type: string, data: string, id: string) => void;

/**
 * A `text/event-stream` parser fed with decoded text chunks of any size.
 * [spec] https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation
 */
export const createParser = (onEvent: OnEvent): ((chunk: string) => void) => {
  let buffer = '';
  let type = '';
  let data = '';
  let id = '';
  return (chunk) => {
    buffer += chunk;
    // [spec] Lines are separated by CR LF, a single LF, or a single CR. A CR at the end of a
    // chunk may be the first half of a CR LF, so it waits for the next chunk.
    const cr = buffer.endsWith('\r');
    const lines = (cr ? buffer.slice(0, -1) : buffer).split(/\r\n|\r|\n/);
    buffer = lines.pop()! + (cr ? '\r' : '');
    for (const line of lines) {
      if (!line) {
        // [spec] If the data buffer is an empty string, set the data buffer and the event type
        // buffer to the empty string and return. Remove a trailing LF from the data buffer.
        if (data) onEvent(type || 'message', data.slice(0, -1), id);
        type = data = '';
        continue;
      }
      // [spec] If the line starts with a U+003A COLON character (:), ignore the line.
      const colon = line.indexOf(':');
      if (!colon) continue;
      const field = colon < 0 ? line : line.slice(0, colon);
      // [spec] If a single U+0020 SPACE character follows the colon, remove it from value.
      const value = colon < 0 ? '' : line.slice(colon + (line[colon + 1] === ' ' ? 2 : 1));
      if (field === 'event') type = value;
      else if (field === 'data') data += `${value}\n`;
      // [spec] If the field value does not contain U+0000 NULL, set the last event ID buffer.
      else if (field === 'id' && !value.includes('\0')) id = value;
      // `retry` is ignored: reconnection delays are this library's backoff.
    }
  };
};
