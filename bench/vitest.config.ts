import { defineProject } from 'vitest/config';

// Not part of `npm test` (the root config picks up heygen-*/ only): a smoke run of the bench at a
// tiny scale, against the built server. `npx vitest run --root bench`.
export default defineProject({
  test: {
    name: 'bench',
    include: ['src/**/*.test.ts'],
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 30_000,
  },
});
