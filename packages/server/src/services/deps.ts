/**
 * What every service module is built from. The services read only downwards (this file, the schema types, the
 * errors, the settings); `context.ts`, above them, re-exports it next to what the console is given.
 */
import type { AlipayConfig, Clock } from '@alirefund/protocol';
import type { ServerSettings } from '../config.js';
import type { ServerDatabase } from '../db.js';
import type { Logger } from '../log.js';

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
  /**
   * notify_verify's answer read without `fetch` (keep-alive node:http, metered), when the server was not given
   * a `fetch` of its own; otherwise notify_verify goes through {@link fetch} too.
   */
  readonly getText?: (url: string, timeoutMs: number) => Promise<string>;
}
