/**
 * What services are built from, and what the console is given.
 */
import type { AlipayConfig, Clock } from '@alirefund/protocol';
import type { ServerSettings } from './config.js';
import type { ServerDatabase } from './db.js';
import type { Logger } from './log.js';
import type { ServerServices } from './services/index.js';

/** Dependencies of every service module. */
export interface ServiceDeps {
  readonly database: ServerDatabase;
  readonly settings: ServerSettings;
  /** `settings.alipay`, for short. */
  readonly config: AlipayConfig;
  readonly clock: Clock;
  readonly log: Logger;
  /** Used for the gateway (nopwd requests, notify_verify); defaults to the global fetch. */
  readonly fetch: typeof fetch;
}

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

/** The current time as an ISO-8601 UTC string. */
export function nowIso(clock: Clock): string {
  const t = clock();
  return new Date(typeof t === 'number' ? t : t.getTime()).toISOString();
}

/** The current time in epoch milliseconds. */
export function nowMs(clock: Clock): number {
  const t = clock();
  return typeof t === 'number' ? t : t.getTime();
}
