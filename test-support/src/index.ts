// Everything tests share. Code that runs outside Vitest (the CLI, the bench) imports the subpaths
// `./proxy`, `./server`, `./sse-frames` and `./wire` instead: this index loads Vitest, which the
// production image does not install.
export { fakeClock, type FakeClock, type FakeClockOptions } from './fake-clock.js';
export {
  RecordingEventSource,
  type EventSourceOptions,
  type ReceivedEvent,
} from './event-source.js';
export {
  startProxy,
  type Proxy,
  type ProxyMode,
  type ProxyOptions,
  type ProxyTarget,
} from './proxy.js';
export {
  API_MAIN,
  QUICK_TIMINGS,
  ServerStartError,
  spawnServer,
  startTestServer,
  trackConnections,
  type ConnectionTracker,
  type RunningServer,
  type SpawnServerOptions,
} from './server.js';
export { createFrameParser, type SseFrame } from './sse-frames.js';
export { openSse, RawSseStream, type SseEvent } from './sse-reader.js';
export {
  FINISHED,
  isFinished,
  ISO_TIME,
  STATUS_RANK,
  type ApiError,
  type Batch,
  type CatchUp,
  type Job,
  type JobStatus,
} from './wire.js';
