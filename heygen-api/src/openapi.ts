// Writes the server's OpenAPI document to a file and exits: `npm run openapi -w heygen-api`
// refreshes the committed docs/openapi.json; a path argument writes elsewhere (the packaging test
// compares a fresh export with the committed one).
import 'reflect-metadata';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createApp } from './app.factory.js';
import { createOpenApiDocument } from './openapi-document.js';

const DEFAULT_OUT = fileURLToPath(new URL('../../docs/openapi.json', import.meta.url));

async function exportOpenApi(out: string): Promise<void> {
  // Fixed settings, not the environment: the document must not depend on who exports it.
  const app = await createApp({ env: { LOG_LEVEL: 'error' } });
  try {
    const document = createOpenApiDocument(app);
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify(document, null, 2)}\n`);
  } finally {
    await app.close();
  }
}

const out = resolve(process.argv[2] ?? DEFAULT_OUT);
exportOpenApi(out).then(
  () => console.log(`heygen-api: OpenAPI document written to ${out}`),
  (error: unknown) => {
    console.error('heygen-api: OpenAPI export failed:', error);
    process.exitCode = 1;
  },
);
