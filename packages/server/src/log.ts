/**
 * The logger the server writes to: pino's calling convention (`log.info({ batchNo }, 'message')`), so the CLI
 * can pass a pino instance, and tests a silent or recording one. Never log secrets or raw bodies with secrets.
 */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** A logger that drops everything. */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};
