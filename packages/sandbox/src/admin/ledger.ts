/**
 * Admin API: `GET /ledger`, the invariant check: every entry sums to zero, every transaction balances, and each
 * account's cached balance equals the sum of its entries.
 */
import { withTransaction } from '@alirefund/store';
import type { Hono } from 'hono';
import type { Kysely } from 'kysely';
import type { Core } from '../core.js';
import type { SandboxDB } from '../schema.js';

export function ledgerRoutes(app: Hono, core: Core): void {
  // One snapshot for every read: under PostgreSQL's default READ COMMITTED, separate statements could straddle a
  // batch being processed and report a mismatch that never existed (SQLite's read transaction is a snapshot).
  app.get('/ledger', async (c) => {
    const report = await withTransaction(core.database, (trx) => ledgerReport(trx), {
      isolationLevel: 'repeatable read',
    });
    return c.json(report);
  });
}

/** The ledger report, read in one snapshot (`trx`). */
async function ledgerReport(trx: Kysely<SandboxDB>) {
  const sums = await trx
    .selectFrom('sbx_entries')
    .select((eb) => [
      'account_id',
      eb.fn.sum<number>('amount_fen').as('fen'),
      eb.fn.countAll<number>().as('n'),
    ])
    .groupBy('account_id')
    .execute();
  const byAccount = new Map(sums.map((s) => [s.account_id, { fen: Number(s.fen), n: Number(s.n) }]));
  const accounts = await trx.selectFrom('sbx_accounts').selectAll().orderBy('account_id').execute();
  const txns = await trx
    .selectFrom('sbx_entries')
    .select((eb) => ['txn_id', eb.fn.sum<number>('amount_fen').as('fen')])
    .groupBy('txn_id')
    .having((eb) => eb.fn.sum('amount_fen'), '!=', 0)
    .execute();
  const total = sums.reduce((s, x) => s + Number(x.fen), 0);
  const rows = accounts.map((a) => ({
    accountId: a.account_id,
    kind: a.kind,
    balanceFen: Number(a.balance_fen),
    entriesFen: byAccount.get(a.account_id)?.fen ?? 0,
    entries: byAccount.get(a.account_id)?.n ?? 0,
  }));
  return {
    sumFen: total,
    entryCount: sums.reduce((s, x) => s + Number(x.n), 0),
    unbalancedTxns: txns.map((t) => t.txn_id),
    balancesMatchEntries: rows.every((r) => r.balanceFen === r.entriesFen),
    accounts: rows,
  };
}
