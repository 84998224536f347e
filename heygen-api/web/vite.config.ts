import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The dashboard (heygen-api/web/), built into the server's own build: heygen-api/dist/web, which
// src/dashboard/ serves at `GET /` (index.html, revalidated) and `/assets/*` (hashed, immutable).
// heygen-lib is resolved through its package exports, as in any app: build heygen-lib first.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  // No public/ folder: everything the page loads is hashed under /assets/.
  publicDir: false,
  build: {
    outDir: fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    // Every browser that runs the page has module preload: no polyfill to ship.
    modulePreload: { polyfill: false },
    // Nothing inlined as a data: URL; the page's CSP allows 'self' only (the favicon excepted).
    assetsInlineLimit: 0,
  },
});
