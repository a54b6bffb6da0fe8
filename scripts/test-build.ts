/**
 * vitest globalSetup: brings packages/*\/dist up to date (incremental tsc -b, about a second when nothing
 * changed), so that tests spawning the `alirefund` bin or packing the packages run today's code.
 */
import { spawnSync } from 'node:child_process';

export default function setup(): void {
  // ALIREFUND_SKIP_BUILD=1: use dist/ as it is (e.g. while another change in the tree does not compile yet)
  if (process.env['ALIREFUND_SKIP_BUILD'] === '1') return;
  const script = new URL('./build.mjs', import.meta.url).pathname;
  const r = spawnSync(process.execPath, [script, '--quiet'], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('npm run build failed: the tests need packages/*/dist (see above)');
}
