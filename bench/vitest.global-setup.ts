import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const built = (path: string): boolean => existsSync(fileURLToPath(new URL(path, import.meta.url)));

/** The bench spawns compiled servers: heygen-api from the root build, the reference one from here. */
export default function setup(): void {
  const needed = [
    '../heygen-api/dist/main.js',
    '../heygen-lib/dist/index.js',
    '../test-support/dist/server.js',
  ];
  for (const path of needed) {
    if (!built(path)) throw new Error(`bench: ${path} is missing; run \`npm run build\` first`);
  }
  const tsc = require.resolve('typescript/bin/tsc');
  execFileSync(
    process.execPath,
    [tsc, '-p', fileURLToPath(new URL('tsconfig.build.json', import.meta.url))],
    {
      stdio: 'inherit',
    },
  );
}
