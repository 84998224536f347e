import { defineProject } from 'vitest/config';

export default defineProject({
  // Nest resolves providers from decorator metadata: Vite's Oxc transform emits it, as tsc does,
  // from experimentalDecorators and emitDecoratorMetadata in tsconfig.json.
  test: {
    name: 'heygen-api',
    include: ['src/**/*.spec.ts', 'test/**/*.e2e-spec.ts'],
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
