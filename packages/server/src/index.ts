/**
 * `@alirefund/server`: the merchant refund server.
 *
 * - {@link createServer}: the Hono app (notify endpoints, JSON API, console) over the services;
 * - {@link parseServerEnv}: configuration from environment variables;
 * - the services (`createServices`) and the schema (`serverMigrations`) for the console, the CLI and tests.
 *
 * @module
 */
export {
  DEFAULT_BATCH_SIZE,
  DEFAULT_DATABASE_URL,
  DEFAULT_NEXT_BATCH_WAIT_MS,
  DEFAULT_RECONCILE_INTERVAL_MS,
  DEFAULT_SHUTDOWN_TIMEOUT_MS,
  describeSettings,
  ENV_VARS,
  type EnvProblem,
  type EnvVar,
  MAX_BATCH_SIZE,
  makeSettings,
  type ParseEnvOptions,
  parseDuration,
  parseServerEnv,
  ServerConfigError,
  type ServerSettings,
  type SettingsInput,
} from './config.js';
export { type ConsoleContext, nowIso, nowMs, type ServiceDeps } from './context.js';
export * from './db.js';
export { ERROR_CODES, type ErrorCode, type ItemIssue, ServiceError } from './errors.js';
export { type Logger, silentLogger } from './log.js';
export { MIGRATION_NAMESPACE, serverMigrations } from './schema.js';
export type { NodeRoute } from './http/notify-node.js';
export { type AlirefundServer, type CreateServerDeps, createServer } from './server.js';
export * from './services/index.js';
export { MAX_REFUNDS_PER_TRADE } from './services/trades.js';
export { GATEWAY_TIMEOUT_MS } from './services/submission.js';
export { type BulkService, createBulkService } from './services/bulk.js';
export { csvRecords, splitCsv } from './services/csv.js';
export * from './services/refund-input/index.js';
export type { TradeRef } from './services/trades.js';
