/**
 * Admin API: paid trades (`/trades`): the status they have now, what was refunded and how often, the fee and
 * its part handed back, royalties, and every refund record.
 */
import { withTransaction } from '@alirefund/store';
import type { Hono } from 'hono';
import type { Selectable } from 'kysely';
import type { Core } from '../core.js';
import { insertTrade } from '../entities.js';
import { effectiveStatus, feeRefundedFor, refundedSums } from '../processing/records.js';
import type { TradeTable } from '../schema.js';
import { type SeedProblem, tradeSeedSchema } from '../seed.js';
import { invalid, limitOf, validBody, yuan } from './http.js';

export function tradeRoutes(app: Hono, core: Core): void {
  const db = core.db;
  app.get('/trades', async (c) => {
    let q = db
      .selectFrom('sbx_trades')
      .selectAll()
      .orderBy('created_at', 'desc')
      .orderBy('trade_no')
      .limit(limitOf(c, 200));
    const partner = c.req.query('partner');
    if (partner) q = q.where('partner', '=', partner);
    const rows = await q.execute();
    const refunds = await refundedSums(
      db,
      rows.map((r) => r.trade_no),
    );
    return c.json({ trades: rows.map((r) => tradeView(r, refunds.get(r.trade_no))) });
  });
  app.get('/trades/:tradeNo', async (c) => {
    const tradeNo = c.req.param('tradeNo');
    const r = await db
      .selectFrom('sbx_trades')
      .selectAll()
      .where('trade_no', '=', tradeNo)
      .executeTakeFirst();
    if (!r) return c.json({ error: 'not_found', message: `no trade ${tradeNo}` }, 404);
    const refunds = await refundedSums(db, [tradeNo]);
    const records = await db
      .selectFrom('sbx_batch_records')
      .selectAll()
      .where('trade_no', '=', tradeNo)
      .orderBy('processed_at')
      .execute();
    const royalties = await db
      .selectFrom('sbx_trade_royalties')
      .selectAll()
      .where('trade_no', '=', tradeNo)
      .execute();
    return c.json({
      ...tradeView(r, refunds.get(tradeNo)),
      royalties: royalties.map((y) => ({
        accountId: y.account_id,
        amount: yuan(y.amount_fen),
        amountFen: Number(y.amount_fen),
      })),
      refunds: records.map((b) => ({
        partner: b.partner,
        batchNo: b.batch_no,
        recordNo: Number(b.record_no),
        amount: yuan(b.amount_fen),
        code: b.code,
        succeeded: Number(b.succeeded) === 1,
        dbackStatus: b.dback_status,
        at: new Date(Number(b.processed_at)).toISOString(),
      })),
    });
  });
  app.post('/trades', async (c) => {
    const parsed = await validBody(c, tradeSeedSchema);
    if (!parsed.ok) return parsed.response;
    const problems: SeedProblem[] = [];
    const created = await withTransaction(core.database, (trx) => {
      problems.length = 0;
      return insertTrade(trx, parsed.data, '(body)', core.now(), problems);
    });
    if (problems.length > 0)
      return invalid(
        c,
        problems.map((p) => ({ ...p, path: p.path.replace(/^\(body\)\./, '') })),
      );
    if (!created)
      return c.json({ error: 'conflict', message: `trade ${parsed.data.tradeNo} already exists` }, 409);
    return c.json({ tradeNo: parsed.data.tradeNo, created: true }, 201);
  });
}

/** A trade as the API shows it, given what its records refunded. */
function tradeView(r: Selectable<TradeTable>, refunded: { fen: number; count: number } | undefined) {
  const fen = refunded?.fen ?? 0;
  const feeFen = r.fee_fen === null ? null : Number(r.fee_fen);
  const feeRefundedFen = feeFen === null ? null : feeRefundedFor(feeFen, Number(r.amount_fen), fen);
  return {
    tradeNo: r.trade_no,
    partner: r.partner,
    sellerId: r.seller_id,
    outTradeNo: r.out_trade_no,
    buyerEmail: r.buyer_email,
    amount: yuan(r.amount_fen),
    amountFen: Number(r.amount_fen),
    status: effectiveStatus(r.status, Number(r.amount_fen), fen),
    createdStatus: r.status,
    refunded: yuan(fen),
    refundedFen: fen,
    refundCount: refunded?.count ?? 0,
    notifyUrl: r.notify_url,
    paidWith: r.paid_with,
    fee: feeFen === null ? null : yuan(feeFen),
    feeFen,
    feeRefunded: feeRefundedFen === null ? null : yuan(feeRefundedFen),
    feeRefundedFen,
  };
}
