#!/usr/bin/env node
// Runs every bench/*.bench.ts in turn (or those named on the command line) with tsx.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';

const dir = new URL('../bench/', import.meta.url).pathname;
const wanted = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => wanted.length === 0 || wanted.some((w) => f.includes(w)))
  .sort();
let failed = 0;
for (const f of files) {
  console.log(`\n## ${f}\n`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--expose-gc', `${dir}${f}`], {
    stdio: 'inherit',
  });
  if (r.status !== 0) {
    failed++;
    console.error(`${f} failed (exit ${r.status})`);
  }
}
process.exit(failed ? 1 : 0);
