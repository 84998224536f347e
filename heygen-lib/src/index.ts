// The public surface, named one by one. Transports, the HTTP helper and the SSE parser stay
// internal: apps choose a transport through `mode`, not by constructing one.
export { HeyGenAPI } from './heygen-api.js';
export { HeyGenStatusListenerMode } from './types.js';
export type {
  CallOptions,
  ChannelStats,
  ConnectionState,
  CreateJobOptions,
  EventSourceConstructorLike,
  EventSourceLike,
  FetchLike,
  HeyGenAPIOptions,
  HeyGenStats,
  MessageEventLike,
  ReaderLike,
  ResponseLike,
  StatusCallback,
  TransportKind,
  WaitForJobOptions,
} from './types.js';
export type { Job, JobStatus } from './job.js';
export { HeyGenError, isHeyGenError, type HeyGenErrorCode } from './errors/heygen-error.js';
export { SSEError } from './errors/sse-error.js';
export { JobNotFoundError } from './errors/job-not-found-error.js';
export { MessageParseError } from './errors/message-parse-error.js';
export { ListenerNotFoundError } from './errors/listener-not-found-error.js';
export { JobFailedError } from './errors/job-failed-error.js';
export { TimeoutError } from './errors/timeout-error.js';
export { AbortError } from './errors/abort-error.js';
export { HttpError } from './errors/http-error.js';
