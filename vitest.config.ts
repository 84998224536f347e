import { defineConfig } from 'vitest/config';

// One runner for the whole repository: each package brings its own project config.
export default defineConfig({
  test: {
    projects: ['heygen-*/vitest.config.ts'],
  },
});
