import { createParser } from 'eventsource-parser';

/**
 * One event of a text/event-stream, or one `retry:` field. Unlike an EventSource, a reader of
 * frames sees the `retry:` fields too (each as a frame of its own), and an event's own `id:` only.
 */
export interface SseFrame {
  id?: string;
  event?: string;
  data?: string;
  retry?: number;
}

/**
 * An incremental reader of the SSE wire format on `eventsource-parser` (which follows
 * html.spec.whatwg.org, "Event stream interpretation"): feed it text, it calls `onFrame` for each
 * event and for each `retry:` field, in the order they arrive.
 */
export function createFrameParser(onFrame: (frame: SseFrame) => void): {
  feed(text: string): void;
} {
  return createParser({
    onEvent: ({ id, event, data }) =>
      onFrame({
        ...(id !== undefined && { id }),
        ...(event !== undefined && { event }),
        data,
      }),
    // [spec] "If the field value consists of only ASCII digits, then interpret the field value as
    // an integer in base ten, and set the event stream's reconnection time to that integer."
    onRetry: (retry) => onFrame({ retry }),
  });
}
