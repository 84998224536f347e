import { HeyGenError } from './heygen-error.js';

/**
 * Why {@link verifyWebhook} refused a request: a `webhook-*` header is missing or is not in the
 * Standard Webhooks format, the timestamp is outside the tolerance, no `v1` signature matches the
 * body, or the signed body is not JSON.
 */
export type WebhookVerificationReason =
  | 'MISSING_HEADER'
  | 'MALFORMED_HEADER'
  | 'TIMESTAMP_TOO_OLD'
  | 'TIMESTAMP_TOO_NEW'
  | 'NO_MATCHING_SIGNATURE'
  | 'INVALID_PAYLOAD';

/**
 * A webhook request failed verification: answer it with a 4xx and do not act on it. Thrown by
 * `heygen-lib/webhooks`, a bundle of its own: `instanceof` this class from that subpath, or
 * `instanceof HeyGenError` and `isHeyGenError` from either entry (known by its name and code).
 */
export class WebhookVerificationError extends HeyGenError {
  /** The `name` of its errors, also from another copy of the library (see HeyGenError). */
  static override readonly errorName: string = 'WebhookVerificationError';

  /**
   * @param reason - which check failed, for logs and metrics (clock skew is not forgery)
   * @param cause - the underlying error, if any
   */
  constructor(
    readonly reason: WebhookVerificationReason,
    message: string,
    cause?: unknown,
  ) {
    super('WEBHOOK_VERIFICATION', message, cause);
  }
}
