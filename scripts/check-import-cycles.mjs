#!/usr/bin/env node
// Fails when the folders of a package's src/ import each other in a circle (issue 15): a folder is
// a room, and rooms depend one way only. madge cannot be installed beside TypeScript 6 and
// dependency-cruiser needs Node 22, so this reads the imports with TypeScript itself.
//
// The rules:
// - A file's node is the first path segment below src/: its folder (`jobs`, `sse`, `domain`), or,
//   for a file directly in src/, the file itself (`app.module.ts`). Files in src/ are separate
//   modules, not one room: the composition root (main.ts, app.module.ts, index.ts) imports every
//   feature, and is in a circle only if a feature imports it back, which is a real knot.
// - `import type` counts: a type circle between folders is still a knot.
// - Tests (*.spec.ts, *.test.ts) are left out: a test assembles pieces from several rooms, and
//   it ships in no build.
import { dirname, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PACKAGES = ['heygen-api', 'heygen-lib', 'heygen-cli', 'test-support', 'bench'];
const TEST_FILE = /\.(spec|test|e2e-spec)\.[cm]?tsx?$/;

/** A package's source files and the compiler options that resolve their imports. */
function readProject(pkg) {
  const configPath = resolve(ROOT, pkg, 'tsconfig.json');
  const { config, error } = ts.readConfigFile(configPath, ts.sys.readFile);
  if (error) throw new Error(ts.flattenDiagnosticMessageText(error.messageText, '\n'));
  const { options, fileNames } = ts.parseJsonConfigFileContent(config, ts.sys, dirname(configPath));
  const srcDir = resolve(ROOT, pkg, 'src');
  const inSrc = (file) => file.startsWith(srcDir + sep) && !file.endsWith('.d.ts');
  const files = fileNames
    .map((file) => resolve(file))
    .filter((file) => inSrc(file) && !TEST_FILE.test(file));
  // An empty list would pass unseen: a moved tsconfig must fail here, not silently check nothing.
  if (files.length === 0) throw new Error(`${pkg}: no source file found in ${srcDir}`);
  return { srcDir, options, files, inSrc };
}

/** The node a file belongs to: its top folder below src/, or the file itself when it sits in src/. */
const nodeOf = (srcDir, file) => relative(srcDir, file).split(sep)[0];
const shown = (srcDir, file) => relative(srcDir, file).split(sep).join('/');

/**
 * Edges between nodes: `from → to → the first file import that makes it`, as
 * `from/file.ts imports to/file.ts`. Imports within one node are not edges.
 */
function folderGraph({ srcDir, options, files, inSrc }) {
  const graph = new Map();
  for (const file of files) {
    const from = nodeOf(srcDir, file);
    if (!graph.has(from)) graph.set(from, new Map());
    const { importedFiles } = ts.preProcessFile(ts.sys.readFile(file) ?? '', true, true);
    for (const { fileName } of importedFiles) {
      const target = ts.resolveModuleName(fileName, file, options, ts.sys).resolvedModule;
      if (!target || !inSrc(resolve(target.resolvedFileName))) continue;
      const to = nodeOf(srcDir, resolve(target.resolvedFileName));
      if (to === from || graph.get(from).has(to)) continue;
      graph
        .get(from)
        .set(to, `${shown(srcDir, file)} imports ${shown(srcDir, target.resolvedFileName)}`);
    }
  }
  return graph;
}

/** Strongly connected components with more than one node (Tarjan): each is a knot of folders. */
function findKnots(graph) {
  const index = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const knots = [];
  const visit = (node) => {
    index.set(node, index.size);
    low.set(node, index.get(node));
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node)?.keys() ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node), low.get(next)));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node), index.get(next)));
      }
    }
    if (low.get(node) !== index.get(node)) return;
    const component = [];
    let member;
    do {
      member = stack.pop();
      onStack.delete(member);
      component.push(member);
    } while (member !== node);
    if (component.length > 1) knots.push(component.sort());
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return knots;
}

/** The shortest circle from `start` back to itself (breadth-first inside its knot), as nodes. */
function shortestCircle(graph, knot, start) {
  const members = new Set(knot);
  const parent = new Map([[start, undefined]]);
  const queue = [start];
  while (queue.length > 0) {
    const node = queue.shift();
    for (const next of graph.get(node).keys()) {
      if (next === start) {
        const path = [];
        for (let at = node; at !== undefined; at = parent.get(at)) path.unshift(at);
        return [...path, start];
      }
      if (members.has(next) && !parent.has(next)) {
        parent.set(next, node);
        queue.push(next);
      }
    }
  }
  throw new Error(`${start} is in no circle`);
}

let knotsFound = 0;
for (const pkg of PACKAGES) {
  const graph = folderGraph(readProject(pkg));
  for (const knot of findKnots(graph)) {
    knotsFound += 1;
    const circle = shortestCircle(graph, knot, knot[0]);
    console.error(`${pkg}/src: ${knot.join(', ')} import each other, e.g. ${circle.join(' → ')}:`);
    // Every import inside the knot, so that one reading shows all there is to untie.
    for (const from of knot) {
      for (const [to, witness] of graph.get(from))
        if (knot.includes(to)) console.error(`  ${witness}`);
    }
  }
}
if (knotsFound > 0) process.exit(1);
console.log(`No import circle between the folders of ${PACKAGES.join(', ')}.`);
