import { defineConfig } from 'vite';

// Library mode, built four times (package.json `build`): the default mode writes the Node and
// default build (ESM and CommonJS); `--mode browser` writes dist/index.browser.js, which leaves
// out what no browser needs (src/transports/select.ts reads the mode) and is chosen by the
// `browser` export condition; `--mode tabs` and `--mode webhooks` write a subpath each, ESM and
// CommonJS (dist/tabs.js and .cjs, dist/webhooks.js and .cjs). `heygen-lib/tabs` (src/tabs.ts) is
// the same API, shared across tabs; it keeps SSE over fetch: where sharing is unsupported (Node,
// workers) it must work exactly like the main entry's default build. `heygen-lib/webhooks`
// (src/webhooks.ts) verifies webhook signatures, for servers: a bundle of its own, so that the
// main entry does not grow (issue 19). No dependencies to externalize.
const SUBPATHS = ['tabs', 'webhooks'];

export default defineConfig(({ mode }) => {
  const browser = mode === 'browser';
  const subpath = SUBPATHS.includes(mode) ? mode : undefined;
  const name = subpath ?? 'index';
  return {
    build: {
      lib: {
        entry: `src/${name}.ts`,
        formats: browser ? ['es'] : ['es', 'cjs'],
        fileName: (format) =>
          browser ? 'index.browser.js' : `${name}.${format === 'es' ? 'js' : 'cjs'}`,
      },
      target: 'es2022',
      minify: false,
      sourcemap: true,
      // The later builds keep the first one's files.
      emptyOutDir: !browser && !subpath,
    },
  };
});
