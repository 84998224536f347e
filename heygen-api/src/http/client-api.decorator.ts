import { applyDecorators } from '@nestjs/common';
import { ApiBadRequestResponse, ApiBearerAuth, ApiQuery, ApiTags } from '@nestjs/swagger';
import { ErrorDto } from '../errors/error.dto.js';
import { CLIENT_ID_SCHEMA } from './client-id.decorator.js';

/** The name of the API-key scheme in the OpenAPI document (openapi-document.ts declares it). */
export const API_KEY_SCHEME = 'apiKey';

/**
 * What every job endpoint shares in the OpenAPI document: the `jobs` tag, the API key, the `uuid`
 * that names the calling client (its schema is the one ClientIdPipe checks), and the 400 answer
 * for bad input. One place for the job and stream controllers.
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
  );
