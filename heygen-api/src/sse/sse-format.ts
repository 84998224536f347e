/** One Server-Sent Event, as docs/protocol.md "The event stream" lists them. */
export interface SseMessage {
  event: string;
  data: unknown;
  /** Omitted for events that must not move the client's last event id (heartbeat, connected). */
  id?: string;
}

/**
 * Serialises an event. `data` is one line of JSON: JSON.stringify escapes every line break, so the
 * payload can never end the event early or inject a field.
 */
export function formatSse({ event, data, id }: SseMessage): string {
  return `${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** [spec] "If the field name is 'retry'": sets the client's reconnection delay in ms. */
export function formatRetry(ms: number): string {
  return `retry: ${ms}\n\n`;
}
