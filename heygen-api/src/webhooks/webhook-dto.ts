import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { type DeliveryAttempt } from './webhook-delivery.js';
import { type DeliveryHistory } from './webhook-dispatcher.js';
import { WEBHOOK_EVENT_NAMES } from './webhook-events.js';

// Response shapes for the OpenAPI document; the server uses the interfaces they implement.

export class DeliveryAttemptDto implements DeliveryAttempt {
  @ApiProperty({ format: 'uuid' }) deliveryId!: string;
  @ApiProperty({ description: 'Sent as webhook-id: the stream’s id for the same change' })
  eventId!: string;
  @ApiProperty({ example: 'job.completed' }) type!: string;
  @ApiProperty({ minimum: 1, example: 1 }) attempt!: number;
  @ApiProperty({ format: 'date-time' }) at!: string;
  @ApiPropertyOptional({ example: 500 }) statusCode?: number;
  @ApiPropertyOptional({ example: 'timeout' }) error?: string;
  @ApiProperty({ example: 12 }) durationMs!: number;
  @ApiPropertyOptional({ format: 'date-time' }) nextAttemptAt?: string;
}

export class DeliveryHistoryDto implements DeliveryHistory {
  @ApiProperty({ type: String, nullable: true, example: 'https://example.com/hooks/heygen' })
  webhook!: string | null;
  @ApiProperty({ type: [String], enum: WEBHOOK_EVENT_NAMES }) events!: string[];
  @ApiProperty({ type: [DeliveryAttemptDto] }) attempts!: DeliveryAttemptDto[];
}

/** The answer to a redelivery: the delivery that gets one more attempt now. */
export class DeliveryRetryDto {
  @ApiProperty({ format: 'uuid' }) deliveryId!: string;
}

export class WebhookSecretDto {
  @ApiProperty({ example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' }) secret!: string;
  @ApiPropertyOptional({
    format: 'date-time',
    description: 'After a rotation: until when the previous secret also signs',
  })
  previousValidUntil?: string;
}
