import { Controller, Get, Inject, NotFoundException, Param, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { Public } from '../auth/public.decorator.js';
import { rawRequest, takeOverResponse } from '../http/raw.js';
import { acceptsGzip, type DashboardFiles } from './dashboard-files.js';

export const DASHBOARD_FILES = Symbol('DASHBOARD_FILES');

/**
 * The page a person opens (heygen-api/web/): public like /health and /docs, since the page holds
 * no data (its own API calls carry a key when API_KEYS is set), and left out of the OpenAPI
 * document, which describes the API. Written to Node's response, alike on both adapters.
 */
@ApiExcludeController()
@Public()
@Controller()
export class DashboardController {
  constructor(@Inject(DASHBOARD_FILES) private readonly files: DashboardFiles) {}

  @Get()
  page(@Req() req: object, @Res() res: object): void {
    this.send('/', req, res);
  }

  @Get('assets/:name')
  asset(@Param('name') name: string, @Req() req: object, @Res() res: object): void {
    this.send(`/assets/${name}`, req, res);
  }

  private send(path: string, request: object, response: object): void {
    const file = this.files.get(path);
    if (!file) {
      // The API's own answer for a path it does not know (docs/protocol.md, "Errors").
      throw new NotFoundException(
        this.files.built
          ? `Cannot GET ${path}`
          : 'The dashboard is not built: run `npm run build -w heygen-api`',
      );
    }
    const req = rawRequest(request);
    const res = takeOverResponse(response);
    res.setHeader('Content-Type', file.type);
    res.setHeader('Cache-Control', file.cacheControl);
    res.setHeader('ETag', file.etag);
    // Appended: with a CORS_ORIGINS list, FirstAnswers has set `Vary: Origin` already.
    res.appendHeader('Vary', 'Accept-Encoding');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    if (path === '/') setPageHeaders(res);
    if (req.headers['if-none-match'] === file.etag) {
      res.statusCode = 304;
      res.end();
      return;
    }
    const gzip = file.gzip && acceptsGzip(req.headers['accept-encoding']) ? file.gzip : undefined;
    if (gzip) res.setHeader('Content-Encoding', 'gzip');
    const body = gzip ?? file.body;
    res.setHeader('Content-Length', body.length);
    res.statusCode = 200;
    res.end(body);
  }
}

/** The page loads its own scripts and styles only, and talks to its own origin only. */
const CSP = [
  "default-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "object-src 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

function setPageHeaders(res: { setHeader(name: string, value: string): unknown }): void {
  res.setHeader('Content-Security-Policy', CSP);
  res.setHeader('Referrer-Policy', 'no-referrer');
}
