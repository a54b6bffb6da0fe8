/** Admin API: accounts (`/accounts`): balance, the partners each signed with, the latest ledger entries. */
import { withTransaction } from '@alirefund/store';
import type { Hono } from 'hono';
import type { Core } from '../core.js';
import { insertAccount } from '../entities.js';
import { type SeedProblem, accountSeedSchema } from '../seed.js';
import { invalid, limitOf, validBody, yuan } from './http.js';

export function accountRoutes(app: Hono, core: Core): void {
  const db = core.db;
  app.get('/accounts', async (c) => {
    const rows = await db
      .selectFrom('sbx_accounts')
      .selectAll()
      .orderBy('kind')
      .orderBy('account_id')
      .execute();
    return c.json({
      accounts: rows.map((r) => ({
        accountId: r.account_id,
        email: r.email,
        kind: r.kind,
        balance: yuan(r.balance_fen),
        balanceFen: Number(r.balance_fen),
      })),
    });
  });
  app.get('/accounts/:id', async (c) => {
    const id = c.req.param('id');
    const r = await db.selectFrom('sbx_accounts').selectAll().where('account_id', '=', id).executeTakeFirst();
    if (!r) return c.json({ error: 'not_found', message: `no account ${id}` }, 404);
    const entries = await db
      .selectFrom('sbx_entries')
      .selectAll()
      .where('account_id', '=', id)
      .orderBy('id', 'desc')
      .limit(limitOf(c))
      .execute();
    const signed = await db.selectFrom('sbx_protocols').select('partner').where('user_id', '=', id).execute();
    return c.json({
      accountId: r.account_id,
      email: r.email,
      kind: r.kind,
      balance: yuan(r.balance_fen),
      balanceFen: Number(r.balance_fen),
      signedWith: signed.map((s) => s.partner),
      entries: entries.map((e) => ({
        id: Number(e.id),
        txnId: e.txn_id,
        amount: yuan(e.amount_fen),
        amountFen: Number(e.amount_fen),
        kind: e.kind,
        partner: e.partner,
        batchNo: e.batch_no,
        tradeNo: e.trade_no,
        at: new Date(Number(e.created_at)).toISOString(),
      })),
    });
  });
  app.post('/accounts', async (c) => {
    const parsed = await validBody(c, accountSeedSchema);
    if (!parsed.ok) return parsed.response;
    const a = parsed.data;
    const result = await withTransaction(core.database, async (trx) => {
      const problems: SeedProblem[] = [];
      for (const [i, p] of (a.signedWith ?? []).entries()) {
        if (
          !(await trx
            .selectFrom('sbx_partners')
            .select('partner')
            .where('partner', '=', p)
            .executeTakeFirst())
        ) {
          problems.push({ path: `signedWith[${i}]`, message: `partner ${p} does not exist` });
        }
      }
      if (problems.length > 0) return { problems };
      const clash = await trx
        .selectFrom('sbx_accounts')
        .select('account_id')
        .where((eb) => eb.or([eb('account_id', '=', a.userId), eb('email', '=', a.email)]))
        .executeTakeFirst();
      if (clash) return { conflict: true };
      const all =
        a.signedWith ??
        (await trx.selectFrom('sbx_partners').select('partner').execute()).map((r) => r.partner);
      await insertAccount(trx, a, all, core.now());
      return { created: true };
    });
    if ('problems' in result) return invalid(c, result.problems);
    if ('conflict' in result)
      return c.json(
        { error: 'conflict', message: `account ${a.userId} or email ${a.email} already exists` },
        409,
      );
    return c.json({ accountId: a.userId, created: true }, 201);
  });
}
