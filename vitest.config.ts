import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

// One runner for the whole repository: each package brings its own project config, and the root
// test/ project checks what ships (Dockerfile, workflows, OpenAPI document).
export default defineConfig({
  test: {
    // At least two test files at a time: Vitest's default (one fewer than the cores) runs them one
    // by one on 2 cores. Most files wait on servers, sockets and timers, not on the CPU: on this
    // 2-core machine the whole run took 13.5 min on one worker and 10 min on two.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    projects: [
      'test-support/vitest.config.ts',
      'heygen-*/vitest.config.ts',
      'heygen-lib/vitest.faults.config.ts',
      'bench/vitest.config.ts',
      'test/vitest.config.ts',
    ],
  },
});
