import * as esbuild from 'esbuild';
import { gzipSync } from 'node:zlib';
const r = await esbuild.build({ stdin: { contents: "export { HeyGenAPI } from './src/index.ts'", resolveDir: process.cwd(), loader: 'ts' }, bundle: true, minify: true, write: false, metafile: true, format: 'esm', define: { 'import.meta.env.MODE': '"browser"' }, target: 'es2022' });
const out = Object.values(r.metafile.outputs)[0];
console.log('total', r.outputFiles[0].contents.length, 'gz', gzipSync(r.outputFiles[0].contents).length);
for (const [k, v] of Object.entries(out.inputs).sort((a,b)=>b[1].bytesInOutput-a[1].bytesInOutput)) console.log(v.bytesInOutput, k);
