#!/usr/bin/env node
// Enforces the package arrows of docs/architecture.md:
//   protocol -> (nothing of ours); store -> (nothing of ours);
//   sandbox -> protocol, store; server -> protocol, store; cli -> anything.
// Only source files are checked: tests may cross the arrows (server tests start a real sandbox).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const allowed = {
  protocol: [],
  store: [],
  sandbox: ['protocol', 'store'],
  server: ['protocol', 'store'],
  cli: ['protocol', 'store', 'sandbox', 'server'],
};
const root = new URL('..', import.meta.url).pathname;
const importRe = /(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;
const problems = [];

function walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (/\.(ts|tsx|js|mjs)$/.test(name)) yield_(p);
  }
}
let current = '';
function yield_(file) {
  const text = readFileSync(file, 'utf8');
  for (const m of text.matchAll(importRe)) {
    const spec = m[1] ?? m[2];
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
if (problems.length) {
  console.error(`import-direction check failed (${problems.length}):\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log('import-direction check: ok (protocol, store, sandbox, server, cli)');
