import express from 'express';
import { type AddressInfo } from 'node:net';

/**
 * A bare Express 5 route, the floor a framework on Express starts from: the same fixed job as the
 * node:http reference server, with what any Express app has (router, `res.json`), and nothing of
 * ours. Scenario 3 runs it beside heygen-api (issue 10: "≥ 2× a bare Express 5 route").
 */
const job = {
  id: 1,
  status: 'running',
  progress: 0,
  revision: 2,
  duration: 1000,
  createdAt: '2026-11-23T18:00:00.000Z',
  updatedAt: '2026-11-23T18:00:00.001Z',
  startedAt: '2026-11-23T18:00:00.001Z',
  expectedAt: '2026-11-23T18:00:01.000Z',
};

const app = express();
app.disable('x-powered-by');
app.disable('etag');
app.post('/create', (_req, res) => {
  res.status(201).setHeader('X-Next-Poll-Ms', '1000');
  res.json(job);
});
app.get('/status/:id', (_req, res) => {
  res.setHeader('X-Next-Poll-Ms', '1000');
  res.json(job);
});
const server = app.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  console.log(`reference Express server listening on http://127.0.0.1:${port}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
