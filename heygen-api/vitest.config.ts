import swc from 'unplugin-swc';
import { defineProject } from 'vitest/config';

export default defineProject({
  // Nest resolves providers from decorator metadata, which Vite's own transform does not emit.
  plugins: [swc.vite({ module: { type: 'es6' } })],
  test: {
    name: 'heygen-api',
    include: ['src/**/*.spec.ts', 'test/**/*.e2e-spec.ts'],
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
