#!/usr/bin/env node
// Entry point: registers the TypeScript loader (tsx) and runs the CLI from source, so that
// `npm install` is the only step before `npx alirefund ...` works.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/main.ts');
process.exitCode = await main(process.argv.slice(2));
