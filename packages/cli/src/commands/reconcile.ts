/**
 * `alirefund reconcile`: asks the gateway (refund_fastpay_query) about batches that were submitted or accepted
 * but have no applied notification, and applies or marks what it says, through the server's reconcile service
 * (the same apply path and exactly-once rule as the notify endpoint). Configured like `alirefund serve`.
 */
import {
  createServer,
  DEFAULT_RECONCILE_OLDER_THAN_MS,
  parseDuration,
  parseServerEnv,
  type ReconcileItem,
  type ReconcileReport,
  ServerConfigError,
  ServiceError,
} from '@alirefund/server';
import { CliError, type Io } from '../io.js';
import { createLogger } from '../runtime.js';

export interface ReconcileOptions {
  olderThan?: string;
  batch?: string;
  db?: string;
  json?: boolean;
}

/** Exit code when at least one batch needs an operator (or could not be checked). */
export const EXIT_NEEDS_OPERATOR = 2;

function age(ms: number | null): string {
  if (ms === null) return '—';
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)}m`;
  return `${(ms / 3_600_000).toFixed(1)}h`;
}

function table(items: readonly ReconcileItem[]): string {
  const head = ['batch_no', 'mode', 'age', 'before', 'after', 'outcome', 'code', 'operator'];
  const rows = items.map((i) => [
    i.batchNo,
    i.mode,
    age(i.ageMs),
    i.stateBefore,
    i.stateAfter,
    i.outcome,
    i.code ?? '',
    i.needsOperator ? 'YES' : '',
  ]);
  const widths = head.map((h, k) => Math.max(h.length, ...rows.map((r) => (r[k] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, k) => c.padEnd(widths[k] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(head), ...rows.map(line)].join('\n');
}

export async function runReconcile(opts: ReconcileOptions, io: Io): Promise<number> {
  const olderThanMs =
    opts.olderThan === undefined ? DEFAULT_RECONCILE_OLDER_THAN_MS : parseDuration(opts.olderThan);
  if (olderThanMs === null)
    throw new CliError(
      `--older-than: "${opts.olderThan}" is not a duration such as 30m, 2h or 3600 (seconds)`,
    );
  if (opts.batch !== undefined && !/^[0-9A-Za-z]{1,64}$/.test(opts.batch))
    throw new CliError(`--batch: "${opts.batch}" is not a batch_no (letters and digits)`);
  let settings: ReturnType<typeof parseServerEnv>;
  try {
    // As `alirefund serve`: --db wins over ALIREFUND_DATABASE_URL; the public URL is not used here.
    const env = { ...io.env, ...(opts.db !== undefined ? { ALIREFUND_DATABASE_URL: opts.db } : {}) };
    settings = parseServerEnv(env, { defaults: { ALIREFUND_PUBLIC_URL: 'http://127.0.0.1:3000' } });
  } catch (e) {
    if (e instanceof ServerConfigError) throw new CliError(e.message);
    throw e;
  }
  const log = createLogger(io.env['ALIREFUND_LOG_LEVEL'] ?? 'warn');
  const server = await createServer({ settings, log, console: false, background: false });
  let report: ReconcileReport;
  try {
    report = await server.services.reconcile.reconcile({
      olderThanMs,
      attentionAnyAge: true,
      ...(opts.batch !== undefined ? { batchNo: opts.batch } : {}),
      actor: 'cli',
    });
  } catch (e) {
    if (e instanceof ServiceError) throw new CliError(e.message);
    throw e;
  } finally {
    await server.close();
  }
  const trouble = report.items.filter(
    (i) => i.needsOperator || i.outcome === 'unavailable' || i.outcome === 'query_error',
  );
  if (opts.json) {
    io.stdout(`${JSON.stringify({ ...report, ok: trouble.length === 0 }, null, 2)}\n`);
  } else if (report.items.length === 0) {
    io.stdout(
      `no batch needing attention and none without a notification older than ${age(olderThanMs)} (partner ${settings.alipay.partner}, database ${settings.databaseUrl})\n`,
    );
  } else {
    io.stdout(`${table(report.items)}\n\n`);
    for (const i of report.items) io.stdout(`${i.batchNo} (${i.outcome}): ${i.message}\n`);
    const applied = report.items.filter((i) => i.outcome === 'applied').length;
    io.stdout(
      `\n${report.items.length} batch(es) checked, ${applied} applied, ${report.needsOperator} need an operator${
        trouble.length > report.needsOperator
          ? `, ${trouble.length - report.needsOperator} could not be checked`
          : ''
      }\n`,
    );
  }
  return trouble.length > 0 ? EXIT_NEEDS_OPERATOR : 0;
}
