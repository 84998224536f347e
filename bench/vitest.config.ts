import { defineProject } from 'vitest/config';

// A smoke run of the bench at a tiny scale, against the built server (the root `npm run build`);
// the global setup compiles the bench's reference server, which runs as a plain node process.
export default defineProject({
  test: {
    name: 'bench',
    include: ['src/**/*.test.ts'],
    environment: 'node',
    globalSetup: ['./vitest.global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});
