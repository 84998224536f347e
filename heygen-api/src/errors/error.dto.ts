import { ApiProperty, type HeadersObject } from '@nestjs/swagger';

/** The JSON body of every error (ApiExceptionFilter writes it), described for the OpenAPI document. */
export class ErrorDto {
  @ApiProperty({ example: 404 }) statusCode!: number;
  @ApiProperty({ example: 'Not Found' }) error!: string;
  @ApiProperty({ example: 'JOB_NOT_FOUND' }) code!: string;
  @ApiProperty({ example: 'Job 17 not found' }) message!: string;
}

/**
 * The header of a refusal worth retrying (docs/protocol.md, "Errors"): every `429` and `503` sets
 * it, in whole seconds.
 */
export const RETRY_AFTER_HEADERS: HeadersObject = {
  'Retry-After': {
    required: true,
    description: 'Seconds to wait before asking again',
    schema: { type: 'integer', minimum: 1, example: 1 },
  },
};
