import { applyDecorators } from '@nestjs/common';
import { ApiBadRequestResponse, ApiQuery, ApiTags } from '@nestjs/swagger';
import { ErrorDto } from '../errors/error.dto.js';

/**
 * What every job endpoint shares in the OpenAPI document: the `jobs` tag, the `uuid` that names
 * the calling client, and the 400 answer for bad input. One place for the job and stream
 * controllers.
 */
export const ClientApi = (): ClassDecorator =>
  applyDecorators(
    ApiTags('jobs'),
    ApiQuery({
      name: 'uuid',
      type: String,
      description: 'The calling client: a UUID it generated once',
      required: true,
    }),
    ApiBadRequestResponse({ type: ErrorDto, description: 'Bad uuid, id, body or query' }),
  );
