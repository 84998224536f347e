/** Every failure the API reports, as the stable `code` of its JSON error body (docs/protocol.md, "Errors"). */
export type ErrorCode =
  | 'INVALID_CLIENT_ID'
  | 'INVALID_JOB_ID'
  | 'INVALID_BODY'
  | 'INVALID_QUERY'
  | 'INVALID_IDEMPOTENCY_KEY'
  | 'UNAUTHORIZED'
  | 'JOB_NOT_FOUND'
  | 'NOT_FOUND'
  | 'JOB_FINISHED'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'IDEMPOTENCY_KEY_REUSED'
  | 'TOO_MANY_STREAMS'
  | 'TOO_MANY_JOBS'
  | 'INTERNAL_ERROR'
  | 'SHUTTING_DOWN';

/** The one table from codes to HTTP statuses: services speak codes, only the exception filter speaks HTTP. */
export const CODE_TO_STATUS: Readonly<Record<ErrorCode, number>> = {
  INVALID_CLIENT_ID: 400,
  INVALID_JOB_ID: 400,
  INVALID_BODY: 400,
  INVALID_QUERY: 400,
  INVALID_IDEMPOTENCY_KEY: 400,
  UNAUTHORIZED: 401,
  JOB_NOT_FOUND: 404,
  NOT_FOUND: 404,
  JOB_FINISHED: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  IDEMPOTENCY_KEY_REUSED: 422,
  TOO_MANY_STREAMS: 429,
  TOO_MANY_JOBS: 429,
  INTERNAL_ERROR: 500,
  SHUTTING_DOWN: 503,
};
