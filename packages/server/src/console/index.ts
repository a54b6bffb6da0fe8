/**
 * The operator console. Placeholder: the console colleague replaces this file; createServer calls
 * `mountConsole(app, ctx)` after the notify endpoints and the JSON API are mounted.
 */
import type { Hono } from 'hono';
import type { ConsoleContext } from '../context.js';

export function mountConsole(_app: Hono, _ctx: ConsoleContext): void {}
