/**
 * Admin API: frozen funds (`/freezes`, `POST /partners/:partner/freezes`) and 充退, refunds to bank cards
 * (`/dbacks`, settled with `POST /dbacks/:partner/:batchNo/:recordNo`). The ledger side is in `../funds.ts`.
 */
import type { Hono } from 'hono';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { Core } from '../core.js';
import { frozenAccountId } from '../entities.js';
import { freezeFromBalance, settleDback } from '../funds.js';
import { unfreezeRecordOf } from '../processing/records.js';
import type { SandboxDB } from '../schema.js';
import { freezeSeedSchema } from '../seed.js';
import { isoOrNull, limitOf, validBody, yuan } from './http.js';

const settleSchema = z.strictObject({
  status: z.enum(['S', 'F'], { message: 'must be "S" (the card received it) or "F" (the card refused it)' }),
});

/** Freeze orders (of one partner, or all) with what is left of each and its releases. */
export async function freezeViews(db: Kysely<SandboxDB>, partner?: string) {
  let q = db.selectFrom('sbx_freezes').selectAll().orderBy('created_at').orderBy('freeze_order_no');
  if (partner) q = q.where('account_id', '=', partner);
  const rows = await q.execute();
  const left = new Map<string, number>();
  const releases = new Map<string, Array<ReturnType<typeof unfreezeRecordOf> & { batchNo: string }>>();
  for (let i = 0; i < rows.length; i += 400) {
    const part = rows.slice(i, i + 400).map((f) => f.freeze_order_no);
    for (const a of await db
      .selectFrom('sbx_accounts')
      .select(['account_id', 'balance_fen'])
      .where(
        'account_id',
        'in',
        part.map((n) => frozenAccountId(n)),
      )
      .execute())
      left.set(a.account_id, Number(a.balance_fen));
    for (const u of await db
      .selectFrom('sbx_unfreezes')
      .selectAll()
      .where('freeze_order_no', 'in', part)
      .orderBy('processed_at')
      .orderBy('unfreeze_order_no')
      .execute()) {
      const list = releases.get(u.freeze_order_no) ?? [];
      list.push({ ...unfreezeRecordOf(u), batchNo: u.batch_no });
      releases.set(u.freeze_order_no, list);
    }
  }
  return rows.map((f) => {
    const leftFen = left.get(frozenAccountId(f.freeze_order_no)) ?? 0;
    return {
      freezeOrderNo: f.freeze_order_no,
      partner: f.account_id,
      ledgerAccount: frozenAccountId(f.freeze_order_no),
      amount: yuan(f.amount_fen),
      amountFen: Number(f.amount_fen),
      left: yuan(leftFen),
      leftFen,
      createdAt: new Date(Number(f.created_at)).toISOString(),
      releases: releases.get(f.freeze_order_no) ?? [],
    };
  });
}

export function fundRoutes(app: Hono, core: Core): void {
  const db = core.db;
  app.get('/freezes', async (c) => c.json({ freezes: await freezeViews(db, c.req.query('partner')) }));
  app.post('/partners/:partner/freezes', async (c) => {
    const parsed = await validBody(c, freezeSeedSchema);
    if (!parsed.ok) return parsed.response;
    const r = await freezeFromBalance(core, c.req.param('partner'), parsed.data);
    if (!r.ok)
      return c.json(
        { error: r.error, message: r.message },
        r.error === 'not_found' ? 404 : r.error === 'conflict' ? 409 : 400,
      );
    return c.json({ freezeOrderNo: parsed.data.freezeOrderNo, created: true }, 201);
  });

  // ---- 充退 (refunds to bank cards)
  app.get('/dbacks', async (c) => {
    let q = db
      .selectFrom('sbx_batch_records')
      .innerJoin('sbx_batches', (j) =>
        j
          .onRef('sbx_batches.partner', '=', 'sbx_batch_records.partner')
          .onRef('sbx_batches.batch_no', '=', 'sbx_batch_records.batch_no'),
      )
      .select([
        'sbx_batch_records.partner',
        'sbx_batch_records.batch_no',
        'sbx_batch_records.record_no',
        'sbx_batch_records.trade_no',
        'sbx_batch_records.amount_fen',
        'sbx_batch_records.dback_status',
        'sbx_batch_records.dback_settled_at',
        'sbx_batch_records.processed_at',
        'sbx_batches.dback_notify_url',
      ])
      .where('sbx_batch_records.dback_status', 'is not', null)
      .orderBy('sbx_batch_records.processed_at', 'desc')
      .orderBy('sbx_batch_records.batch_no', 'desc')
      .orderBy('sbx_batch_records.record_no')
      .limit(limitOf(c));
    const status = c.req.query('status');
    if (status === 'P' || status === 'S' || status === 'F')
      q = q.where('sbx_batch_records.dback_status', '=', status);
    const partner = c.req.query('partner');
    if (partner) q = q.where('sbx_batch_records.partner', '=', partner);
    return c.json({
      dbacks: (await q.execute()).map((r) => ({
        partner: r.partner,
        batchNo: r.batch_no,
        recordNo: Number(r.record_no),
        tradeNo: r.trade_no,
        amount: yuan(r.amount_fen),
        amountFen: Number(r.amount_fen),
        status: r.dback_status,
        processedAt: isoOrNull(r.processed_at),
        settledAt: isoOrNull(r.dback_settled_at),
        dbackNotifyUrl: r.dback_notify_url,
      })),
    });
  });
  app.post('/dbacks/:partner/:batchNo/:recordNo', async (c) => {
    const parsed = await validBody(c, settleSchema);
    if (!parsed.ok) return parsed.response;
    const recordNo = Number(c.req.param('recordNo'));
    if (!Number.isSafeInteger(recordNo))
      return c.json({ error: 'not_found', message: `no record ${c.req.param('recordNo')}` }, 404);
    const r = await settleDback(
      core,
      { partner: c.req.param('partner'), batchNo: c.req.param('batchNo'), recordNo },
      parsed.data.status,
    );
    if (!r.ok) return c.json({ error: r.error, message: r.message }, r.error === 'not_found' ? 404 : 409);
    return c.json({ status: r.status, notifyId: r.notification?.notifyId ?? null });
  });
}
