import { defineProject } from 'vitest/config';

/** The fault matrix runs in a project of its own, after the others: vitest.faults.config.ts. */
export const FAULT_MATRIX = 'test/faults/fault-matrix.test.ts';

export default defineProject({
  test: {
    name: 'heygen-lib',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: [FAULT_MATRIX],
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
