/**
 * What services are built from, and what the console is given. Reads one way: this file imports the services,
 * never the reverse (their dependencies and the clock helpers live in services/deps.ts and services/clock.ts).
 */
import type { Clock } from '@alirefund/protocol';
import type { ServerSettings } from './config.js';
import type { Logger } from './log.js';
import type { ServerServices } from './services/index.js';

export { nowIso, nowMs } from './services/clock.js';
export type { ServiceDeps } from './services/deps.js';

/**
 * What `mountConsole(app, ctx)` receives: the services (the console's only way to the data), the settings,
 * the clock and the logger.
 */
export interface ConsoleContext {
  readonly services: ServerServices;
  readonly settings: ServerSettings;
  readonly clock: Clock;
  readonly log: Logger;
}
