#!/usr/bin/env node
// Enforces the package arrows of docs/architecture.md:
//   protocol -> (nothing of ours); store -> (nothing of ours);
//   sandbox -> protocol, store; server -> protocol, store; cli -> anything.
// Only source files are checked: tests may cross the arrows (server tests start a real sandbox).
// Also: no import cycle between files (anywhere in packages/*/src), and every package a source file imports
// is declared in that package's package.json "dependencies" (an installed package must not rely on hoisting).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';

const allowed = {
  protocol: [],
  store: [],
  sandbox: ['protocol', 'store'],
  server: ['protocol', 'store'],
  cli: ['protocol', 'store', 'sandbox', 'server'],
};
const root = new URL('..', import.meta.url).pathname;
const importRe = /^(?:import|export)\s[^'";]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/gm;
const problems = [];

function walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (/\.(ts|tsx|js|mjs)$/.test(name)) yield_(p);
  }
}
let current = '';
/** file -> the files of ours it imports (relative specifiers, resolved .js -> .ts). */
const graph = new Map();
const builtins = new Set(builtinModules);
function declared(pkg) {
  const json = JSON.parse(readFileSync(join(root, 'packages', pkg, 'package.json'), 'utf8'));
  return new Set([
    ...Object.keys(json.dependencies ?? {}),
    ...Object.keys(json.peerDependencies ?? {}),
    json.name,
  ]);
}
function yield_(file) {
  const text = readFileSync(file, 'utf8');
  const edges = [];
  graph.set(file, edges);
  const deps = declared(current);
  // type-only imports vanish at run time, but they still make a cycle for a reader: count them too
  for (const m of text.matchAll(importRe)) {
    const spec = m[1] ?? m[2];
    if (spec.startsWith('.')) {
      const target = resolve(dirname(file), spec.replace(/\.js$/, '.ts'));
      if (existsSync(target)) edges.push(target);
    } else if (!spec.startsWith('node:') && !builtins.has(spec.split('/')[0])) {
      const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
      if (!deps.has(name)) {
        problems.push(
          `${relative(root, file)}: imports "${name}", which packages/${current}/package.json does not list in "dependencies"`,
        );
      }
    }
    const ours = /^@alirefund\/([a-z]+)/.exec(spec) ?? (spec === 'alirefund' ? [spec, 'cli'] : null);
    if (ours && ours[1] !== current && !allowed[current].includes(ours[1])) {
      problems.push(`${relative(root, file)}: package "${current}" may not import "${spec}"`);
    }
    const rel = /^(\.\.\/)+([a-z]+)\/src/.exec(spec.replace(/^(\.\.\/)+packages\//, '../'));
    if (spec.includes('/packages/') || (rel && rel[2] !== current)) {
      problems.push(
        `${relative(root, file)}: reaches into another package by path ("${spec}"); import it by name`,
      );
    }
  }
}
for (const pkg of Object.keys(allowed)) {
  current = pkg;
  walk(join(root, 'packages', pkg, 'src'));
}

// Import cycles between files: Tarjan's strongly connected components over the file graph.
let index = 0;
const stack = [];
const info = new Map();
function strongConnect(v) {
  info.set(v, { index, low: index, onStack: true });
  index++;
  stack.push(v);
  for (const w of graph.get(v) ?? []) {
    if (!info.has(w)) {
      strongConnect(w);
      info.get(v).low = Math.min(info.get(v).low, info.get(w).low);
    } else if (info.get(w).onStack) {
      info.get(v).low = Math.min(info.get(v).low, info.get(w).index);
    }
  }
  if (info.get(v).low === info.get(v).index) {
    const component = [];
    let w;
    do {
      w = stack.pop();
      info.get(w).onStack = false;
      component.push(w);
    } while (w !== v);
    if (component.length > 1) {
      problems.push(
        `import cycle between ${component.length} files: ${component
          .map((f) => relative(root, f))
          .sort()
          .join(' <-> ')}; move what they share into a module both import`,
      );
    }
  }
}
for (const v of graph.keys()) if (!info.has(v)) strongConnect(v);
if (problems.length) {
  console.error(`import-direction check failed (${problems.length}):\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(
  `import-direction check: ok (protocol, store, sandbox, server, cli; ${graph.size} files, no import cycle, every dependency declared)`,
);
