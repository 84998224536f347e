import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'test-support',
    include: ['src/**/*.test.ts'],
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // The wire type must agree with the server's and the library's Job: checked by tsc here too.
    typecheck: { enabled: true, include: ['test/**/*.test-d.ts'], tsconfig: './tsconfig.json' },
  },
});
