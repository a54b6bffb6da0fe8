#!/usr/bin/env node
// The installed `alirefund` command: runs the compiled CLI (dist/), no TypeScript at run time.
// In a clone of the repository, `npm install` (prepare) or `npm run build` produces dist/.
let main;
try {
  ({ main } = await import('../dist/main.js'));
} catch (e) {
  if (e?.code === 'ERR_MODULE_NOT_FOUND' && String(e.message).includes('dist/main.js')) {
    process.stderr.write('alirefund: the CLI is not built (no dist/main.js): run `npm run build`\n');
    process.exit(70);
  }
  throw e;
}
process.exitCode = await main(process.argv.slice(2));
