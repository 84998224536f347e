import { defineConfig } from 'vite';

// Library mode, built three times (package.json `build`): the default mode writes the Node and
// default build (ESM and CommonJS); `--mode browser` writes dist/index.browser.js, which leaves
// out what no browser needs (src/transports/select.ts reads the mode) and is chosen by the
// `browser` export condition; `--mode tabs` writes dist/tabs.js and dist/tabs.cjs, the
// `heygen-lib/tabs` subpath (src/tabs.ts: the same API, shared across tabs). The tabs build keeps
// SSE over fetch: where sharing is unsupported (Node, workers) it must work exactly like the main
// entry's default build. No dependencies to externalize.
export default defineConfig(({ mode }) => {
  const browser = mode === 'browser';
  const tabs = mode === 'tabs';
  return {
    build: {
      lib: {
        entry: tabs ? 'src/tabs.ts' : 'src/index.ts',
        formats: browser ? ['es'] : ['es', 'cjs'],
        fileName: (format) =>
          browser
            ? 'index.browser.js'
            : `${tabs ? 'tabs' : 'index'}.${format === 'es' ? 'js' : 'cjs'}`,
      },
      target: 'es2022',
      minify: false,
      sourcemap: true,
      // The later builds keep the first one's files.
      emptyOutDir: !browser && !tabs,
    },
  };
});
