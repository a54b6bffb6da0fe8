#!/usr/bin/env node
// `npm run build` (also run by `npm install` through `prepare`, and by `npm start`): compiles every package
// with tsc project references (protocol, store -> sandbox, server -> cli) into packages/*/dist, plus the
// CommonJS build of @alirefund/protocol in packages/protocol/dist/cjs. Incremental: an up-to-date tree
// costs about a second. `--quiet` prints nothing on success.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const quiet = process.argv.includes('--quiet');
const started = Date.now();
let tsc;
try {
  tsc = createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc');
} catch {
  console.error('alirefund build: typescript is not installed; run `npm install` first');
  process.exit(1);
}
const projects = ['packages/cli', 'packages/protocol/tsconfig.cjs.json'];
const r = spawnSync(process.execPath, [tsc, '-b', ...projects], { cwd: root, stdio: 'inherit' });
if (r.status !== 0) {
  console.error('alirefund build: tsc failed (see above)');
  process.exit(r.status ?? 1);
}
// dist/cjs holds CommonJS: a package.json there tells Node (and TypeScript) so, whatever the root's "type".
const cjs = join(root, 'packages/protocol/dist/cjs');
mkdirSync(cjs, { recursive: true });
writeFileSync(join(cjs, 'package.json'), '{\n  "type": "commonjs"\n}\n');
if (!quiet) console.log(`alirefund build: packages/*/dist up to date (${Date.now() - started} ms)`);
