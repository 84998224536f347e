/**
 * One block of a text/event-stream, ended by a blank line. Unlike an EventSource, blocks without
 * `data:` (such as a lone `retry:`) are kept, so tests can see every field the server sent.
 */
export interface SseFrame {
  id?: string;
  event?: string;
  data?: string;
  retry?: number;
}

/**
 * An incremental parser of the SSE wire format (html.spec.whatwg.org, "Event stream
 * interpretation"): feed it chunks, it calls `onFrame` for each finished block.
 */
export class SseParser {
  private buffer = '';
  private frame: SseFrame = {};
  private hasField = false;

  constructor(private readonly onFrame: (frame: SseFrame) => void) {}

  feed(chunk: string): void {
    this.buffer += chunk;
    // [spec] lines end with CRLF, LF or CR.
    const lines = this.buffer.split(/\r\n|\r|\n/);
    this.buffer = lines.pop() ?? '';
    for (const line of lines) this.line(line);
  }

  private line(line: string): void {
    if (line === '') {
      if (this.hasField) this.onFrame(this.frame);
      this.frame = {};
      this.hasField = false;
      return;
    }
    // [spec] a line starting with a colon is a comment.
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    this.hasField = true;
    switch (field) {
      case 'id':
        this.frame.id = value;
        break;
      case 'event':
        this.frame.event = value;
        break;
      case 'data':
        this.frame.data = this.frame.data === undefined ? value : `${this.frame.data}\n${value}`;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.frame.retry = Number(value);
        break;
      default:
        break;
    }
  }
}
