import { applyDecorators } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiPayloadTooLargeResponse,
  ApiQuery,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiUnauthorizedResponse,
  ApiUnsupportedMediaTypeResponse,
} from '@nestjs/swagger';
import { ErrorDto, RETRY_AFTER_HEADERS } from '../errors/error.dto.js';
import { CLIENT_ID_SCHEMA } from './client-id.decorator.js';

/** The name of the API-key scheme in the OpenAPI document (openapi-document.ts declares it). */
export const API_KEY_SCHEME = 'apiKey';

/**
 * What every job endpoint shares in the OpenAPI document: the `jobs` tag, the API key, the `uuid`
 * that names the calling client (its schema is the one ClientIdPipe checks), and the answers any
 * of them may give: 400 for bad input, 401 without a key, 413 and 415 for a body it cannot take,
 * 503 when Redis is out of reach. One place for the job and stream controllers; a route that has
 * more reasons for a 503 says so.
 */
export const ClientApi = (): ClassDecorator =>
  applyDecorators(
    ApiTags('jobs'),
    ApiBearerAuth(API_KEY_SCHEME),
    ApiQuery({
      name: 'uuid',
      schema: CLIENT_ID_SCHEMA,
      description: 'The calling client: a UUID it generated once',
      required: true,
    }),
    ApiBadRequestResponse({ type: ErrorDto, description: 'Bad uuid, id, body or query' }),
    ApiUnauthorizedResponse({
      type: ErrorDto,
      description: 'UNAUTHORIZED: the server has API_KEYS set and the request has no valid key',
    }),
    ApiServiceUnavailableResponse({
      type: ErrorDto,
      headers: RETRY_AFTER_HEADERS,
      description: 'STORE_UNAVAILABLE: with JOBS_DRIVER=redis, Redis cannot be reached',
    }),
    // Every route reads a body if one is sent (http/json-body-parser.ts).
    ApiPayloadTooLargeResponse({
      type: ErrorDto,
      description: 'PAYLOAD_TOO_LARGE: a body over MAX_BODY_BYTES',
    }),
    ApiUnsupportedMediaTypeResponse({
      type: ErrorDto,
      description:
        'UNSUPPORTED_MEDIA_TYPE: a body that is not JSON in UTF-8, is content-encoded, or comes where the route takes none',
    }),
  );
