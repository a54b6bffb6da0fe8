/**
 * Admin API: batches (`/batches`): status, the lock error, per-record results, `result_details`,
 * `unfreezed_details` and the releases, and the batch's notifications.
 */
import type { Hono } from 'hono';
import type { Selectable } from 'kysely';
import type { Core } from '../core.js';
import { resultFromRow, unfreezeRecordOf } from '../processing/records.js';
import type { BatchTable } from '../schema.js';
import { isoOrNull, limitOf, yuan } from './http.js';
import { notificationView } from './notifications.js';

export function batchRoutes(app: Hono, core: Core): void {
  const db = core.db;
  app.get('/batches', async (c) => {
    let q = db
      .selectFrom('sbx_batches')
      .select([
        'partner',
        'batch_no',
        'service',
        'status',
        'locked',
        'record_count',
        'success_num',
        'notify_url',
        'created_at',
        'accepted_at',
        'processed_at',
        'wrong_passwords',
      ])
      .orderBy('created_at', 'desc')
      .orderBy('batch_no', 'desc')
      .limit(limitOf(c));
    const partner = c.req.query('partner');
    if (partner) q = q.where('partner', '=', partner);
    const status = c.req.query('status');
    if (status === 'awaiting_confirmation' || status === 'queued' || status === 'done')
      q = q.where('status', '=', status);
    const rows = await q.execute();
    return c.json({ batches: rows.map(batchView) });
  });
  app.get('/batches/:partner/:batchNo', async (c) => {
    const partner = c.req.param('partner');
    const batchNo = c.req.param('batchNo');
    const b = await db
      .selectFrom('sbx_batches')
      .selectAll()
      .where('partner', '=', partner)
      .where('batch_no', '=', batchNo)
      .executeTakeFirst();
    if (!b) return c.json({ error: 'not_found', message: `no batch ${partner}/${batchNo}` }, 404);
    const records = await db
      .selectFrom('sbx_batch_records')
      .selectAll()
      .where('partner', '=', partner)
      .where('batch_no', '=', batchNo)
      .orderBy('record_no')
      .execute();
    const notifications = await db
      .selectFrom('sbx_notifications')
      .selectAll()
      .where('partner', '=', partner)
      .where('batch_no', '=', batchNo)
      .orderBy('id')
      .execute();
    const unfreezes = await db
      .selectFrom('sbx_unfreezes')
      .selectAll()
      .where('partner', '=', partner)
      .where('batch_no', '=', batchNo)
      .orderBy('record_no')
      .orderBy('unfreeze_order_no')
      .execute();
    return c.json({
      ...batchView(b),
      charset: b.charset,
      signType: b.sign_type,
      sellerId: b.seller_id,
      useFreezeAmount: Number(b.use_freeze) === 1,
      dbackNotifyUrl: b.dback_notify_url,
      detailData: b.detail_data,
      resultDetails: b.result_details,
      unfreezedDetails: b.unfreezed_details,
      unfreezes: unfreezes.map((u) => ({ recordNo: Number(u.record_no), ...unfreezeRecordOf(u) })),
      records: records.map((r) => ({
        recordNo: Number(r.record_no),
        tradeNo: r.trade_no,
        amount: yuan(r.amount_fen),
        code: r.code,
        succeeded: Number(r.succeeded) === 1,
        dbackStatus: r.dback_status,
        result: resultFromRow(r),
      })),
      notifications: notifications.map(notificationView),
    });
  });
}

/** The columns of a batch every view shows. */
type BatchSummary = Pick<
  Selectable<BatchTable>,
  | 'partner'
  | 'batch_no'
  | 'service'
  | 'status'
  | 'locked'
  | 'record_count'
  | 'success_num'
  | 'notify_url'
  | 'created_at'
  | 'accepted_at'
  | 'processed_at'
  | 'wrong_passwords'
>;

function batchView(b: BatchSummary) {
  return {
    partner: b.partner,
    batchNo: b.batch_no,
    service: b.service,
    status: b.status,
    lockError: Number(b.locked) === 1,
    recordCount: Number(b.record_count),
    successNum: b.success_num === null ? null : Number(b.success_num),
    notifyUrl: b.notify_url,
    wrongPasswords: Number(b.wrong_passwords),
    createdAt: isoOrNull(b.created_at),
    acceptedAt: isoOrNull(b.accepted_at),
    processedAt: isoOrNull(b.processed_at),
  };
}
