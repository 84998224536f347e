import { defineConfig } from 'vitest/config';

// One runner for the whole repository: each package brings its own project config, and the root
// test/ project checks what ships (Dockerfile, workflows, OpenAPI document).
export default defineConfig({
  test: {
    projects: [
      'test-support/vitest.config.ts',
      'heygen-*/vitest.config.ts',
      'bench/vitest.config.ts',
      'test/vitest.config.ts',
    ],
  },
});
