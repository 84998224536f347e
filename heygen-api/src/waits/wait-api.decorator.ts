import { applyDecorators } from '@nestjs/common';
import { ApiHeader, ApiQuery, type HeadersObject } from '@nestjs/swagger';
import { PREFER_HEADER, PREFER_SCHEMA, PREFERENCE_APPLIED_HEADER } from './prefer.js';
import { WAIT_SCHEMA } from './wait-query.pipe.js';

/** `Prefer: wait=<seconds>`, and its query form `wait`, in the OpenAPI document of a status route. */
export const ApiPreferWait = (): MethodDecorator & ClassDecorator =>
  applyDecorators(
    ApiHeader({
      name: PREFER_HEADER,
      required: false,
      schema: PREFER_SCHEMA,
      description:
        'RFC 7240. `wait=<seconds>` holds the request until a listed job finishes (or, with revisions, moves past them) or the wait ends; at most MAX_WAIT_S (default 25), `wait` alone meaning that long. Malformed values are ignored',
    }),
    ApiQuery({
      name: 'wait',
      required: false,
      schema: WAIT_SCHEMA,
      description:
        'The wait of `Prefer: wait=<seconds>` as a query parameter, which a browser sends without a CORS preflight; wins over `Prefer`. On the batch, not with after',
    }),
  );

/** The headers of an answer a wait may have held: the job's (`GET /status/:id`). */
export const HELD_ANSWER_HEADERS: HeadersObject = {
  [PREFERENCE_APPLIED_HEADER]: {
    description:
      'Present when the wait was applied: `wait=<seconds>`, the wait asked for, at most MAX_WAIT_S. Absent when no wait was asked, waits are off, a limit was reached or the server stopped',
    schema: { type: 'string', example: 'wait=25' },
  },
  'X-Next-Poll-Ms': {
    description:
      'The poll hint, while a job answered is unfinished: ms until the client should ask again',
    schema: { type: 'integer', minimum: 0, example: 1210 },
  },
  Vary: {
    required: true,
    description: 'Always `Prefer` (with `Origin` when CORS_ORIGINS lists origins)',
    schema: { type: 'string', example: 'Prefer' },
  },
};

/**
 * The headers of `GET /status` in JSON: the batch, which a wait may hold, or the catch-up, which
 * none holds, so that it does not vary with `Prefer` (docs/protocol.md, "Held waits").
 */
export const BATCH_ANSWER_HEADERS: HeadersObject = {
  ...HELD_ANSWER_HEADERS,
  Vary: {
    description:
      '`Prefer` on the batch, not on the catch-up (with `Origin` when CORS_ORIGINS lists origins)',
    schema: { type: 'string', example: 'Prefer' },
  },
};
