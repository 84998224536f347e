import { createServer } from 'node:http';
import { type AddressInfo } from 'node:net';

/**
 * The thinnest server possible on this machine: node:http answering every request with a fixed
 * job, as POST /create and GET /status/:id would. Scenario 3 runs it beside heygen-api, so the
 * figures say how much of the cost is the machine and how much is the server.
 */
const job = JSON.stringify({
  id: 1,
  status: 'running',
  progress: 0,
  revision: 2,
  duration: 1000,
  createdAt: '2026-11-23T18:00:00.000Z',
  updatedAt: '2026-11-23T18:00:00.001Z',
  startedAt: '2026-11-23T18:00:00.001Z',
  expectedAt: '2026-11-23T18:00:01.000Z',
});

const server = createServer((req, res) => {
  res.writeHead(req.method === 'POST' ? 201 : 200, {
    'Content-Type': 'application/json; charset=utf-8',
    'X-Next-Poll-Ms': '1000',
  });
  res.end(job);
});
server.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  console.log(`reference server listening on http://127.0.0.1:${port}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
