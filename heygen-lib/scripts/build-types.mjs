// Declarations for both formats. tsc writes ESM declarations to dist/types; a copy under
// dist/types-cjs, marked "type": "commonjs", describes the CommonJS build to TypeScript
// (otherwise `require` consumers would see ESM-only types: attw's "masquerading as ESM").
import { cpSync, writeFileSync } from 'node:fs';

cpSync('dist/types', 'dist/types-cjs', { recursive: true });
writeFileSync('dist/types-cjs/package.json', '{ "type": "commonjs" }\n');
