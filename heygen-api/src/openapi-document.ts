import { type INestApplication } from '@nestjs/common';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { API_KEY_SCHEME } from './http/client-api.decorator.js';
import { percentDecoded } from './http/percent-decoding.js';

/**
 * Where the document is served: one path, two formats (issue 16). `/docs` is the Swagger page;
 * docs/protocol.md, "Health and docs", lists them.
 */
export const OPENAPI_PATHS = {
  page: 'docs',
  json: 'docs/openapi.json',
  yaml: 'docs/openapi.yaml',
} as const;

/**
 * The OpenAPI document of the JSON endpoints (also exported to docs/openapi.json by openapi.ts).
 * Request schemas come from the validators' own (jobs/schemas.ts); every job operation declares
 * the API key, an opaque bearer token (not a JWT), so Swagger's Authorize and Try-it-out send it.
 */
export function createOpenApiDocument(app: INestApplication): OpenAPIObject {
  return SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('heygen-api')
      .setDescription(
        'Simulated long-running jobs. The event stream (GET /status with Accept: text/event-stream) is described in docs/protocol.md.',
      )
      .setVersion('0.1.0')
      .setLicense('MIT', 'https://opensource.org/licenses/MIT')
      // The server that serves this document: Try-it-out calls the instance it is read from.
      .addServer('/', 'This server')
      .addTag('jobs', 'Create, read and cancel jobs; the batch and the event stream')
      .addTag('health', 'Liveness and readiness; never needs an API key')
      .addSecurity(API_KEY_SCHEME, {
        type: 'http',
        scheme: 'bearer',
        description:
          'An API key from API_KEYS, sent as `Authorization: Bearer <key>` (an opaque token, not a JWT). Only when the server has API_KEYS set.',
      })
      .build(),
  );
}

/** The page's routes however a router may read the path: `/DOCS` and `/d%6fcs` reach it too. */
const DOCS_PATH = new RegExp(`^/${OPENAPI_PATHS.page}`, 'i');

function isDocsPath(url: string): boolean {
  return DOCS_PATH.test(url.includes('%') ? (percentDecoded(url) ?? url) : url);
}

/**
 * Serves the OpenAPI page and document (OPENAPI_PATHS); returns the document. The page sends
 * requests with the key entered in Authorize: no other site may frame it (a click on its
 * Try-it-out would be the user's), and the key is kept for the page's life only, not in
 * `localStorage` (the dashboard keeps its key per tab too).
 */
export function setUpOpenApi(app: INestApplication): OpenAPIObject {
  const document = createOpenApiDocument(app);
  const server = app.getHttpServer() as Server;
  server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => {
    if (!isDocsPath(req.url ?? '')) return;
    res.setHeader('Content-Security-Policy', "frame-ancestors 'none'");
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('X-Content-Type-Options', 'nosniff');
  });
  SwaggerModule.setup(OPENAPI_PATHS.page, app, document, {
    jsonDocumentUrl: OPENAPI_PATHS.json,
    yamlDocumentUrl: OPENAPI_PATHS.yaml,
  });
  return document;
}
