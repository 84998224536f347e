import { defineConfig } from 'vite';

// Library mode: one ESM and one CommonJS file, no dependencies to externalize.
export default defineConfig({
  build: {
    lib: {
      entry: 'src/index.ts',
      formats: ['es', 'cjs'],
      fileName: (format) => (format === 'es' ? 'index.js' : 'index.cjs'),
    },
    target: 'es2022',
    minify: false,
    sourcemap: true,
    emptyOutDir: true,
  },
});
