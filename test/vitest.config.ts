import { defineProject } from 'vitest/config';

// The shipping files of the whole repository (Dockerfile, .dockerignore, workflows, OpenAPI
// document), checked against the built packages: they belong to no one package.
export default defineProject({
  test: {
    name: 'packaging',
    include: ['*.test.ts'],
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 30_000,
  },
});
