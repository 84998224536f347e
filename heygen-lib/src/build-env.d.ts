// What Vite replaces at build time (vite.config.ts); Vitest sets it too.
interface ImportMetaEnv {
  /** `browser` for dist/index.browser.js, `production` for the Node and default build. */
  readonly MODE: string;
}

interface ImportMeta {
  readonly env: ImportMetaEnv;
}
