import { defineConfig } from 'vite';

// Library mode, built twice (package.json `build`): the default mode writes the Node and default
// build (ESM and CommonJS); `--mode browser` writes dist/index.browser.js, which leaves out what
// no browser needs (src/transports/select.ts reads the mode) and is chosen by the `browser`
// export condition. No dependencies to externalize.
export default defineConfig(({ mode }) => {
  const browser = mode === 'browser';
  return {
    build: {
      lib: {
        entry: 'src/index.ts',
        formats: browser ? ['es'] : ['es', 'cjs'],
        fileName: (format) =>
          browser ? 'index.browser.js' : format === 'es' ? 'index.js' : 'index.cjs',
      },
      target: 'es2022',
      minify: false,
      sourcemap: true,
      // The browser build runs second and keeps the first one's files.
      emptyOutDir: !browser,
    },
  };
});
