import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'heygen-lib',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
