import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'heygen-cli',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 30_000,
  },
});
