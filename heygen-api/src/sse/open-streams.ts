/** Injection token of the open-stream count, provided by StatusStreamModule for health reports. */
export const OPEN_STREAMS = Symbol('OpenStreams');

/** How many event streams are open now (health and leak checks). */
export interface OpenStreams {
  readonly openStreams: number;
}
