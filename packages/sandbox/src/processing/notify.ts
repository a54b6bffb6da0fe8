/**
 * The notifications a processed batch causes, queued in its transaction: `batch_refund_notify` to the batch's
 * `notify_url` (with `unfreezed_details` when frozen funds were released) and `trade_status_sync` to the
 * `notifyUrl` of each trade a record refunded.
 */
import { type Charset, formatBeijing, formatYuan } from '@alirefund/protocol';
import { type Core, type SandboxTrx, chunks } from '../core.js';
import { type Enqueued, type NotifyFaultUse, enqueueNotification } from '../outbox.js';
import type { Trade } from './load.js';

export interface ProcessedBatch {
  partner: string;
  batchNo: string;
  batch: { notify_url: string | null; sign_type: string };
  charset: Charset;
  /** When it was processed. */
  now: number;
  successNum: number;
  resultDetails: string;
  unfreezedDetails: string | null;
  /** The trades its records refunded, and whether the refund closed them. */
  refunded: ReadonlyArray<{ trade: Trade; closed: boolean }>;
}

/** Queues the batch's notifications in `trx`; returns them in the order they were queued. */
export async function enqueueBatchNotifications(
  core: Core,
  trx: SandboxTrx,
  use: NotifyFaultUse,
  b: ProcessedBatch,
): Promise<Enqueued[]> {
  const { partner, batchNo, batch, charset, now } = b;
  const notifications: Enqueued[] = [];
  if (batch.notify_url) {
    const params: Record<string, string> = {
      notify_type: 'batch_refund_notify',
      batch_no: batchNo,
      success_num: String(b.successNum),
      result_details: b.resultDetails,
    };
    // use_freeze_amount=Y and frozen funds were released: unfreezed_details, signed like the rest.
    if (b.unfreezedDetails !== null) params['unfreezed_details'] = b.unfreezedDetails;
    notifications.push(
      await enqueueNotification(core, trx, use, {
        partner,
        batchNo,
        tradeNo: null,
        kind: 'batch_refund_notify',
        url: batch.notify_url,
        charset,
        signType: batch.sign_type,
        params,
      }),
    );
  }
  if (b.refunded.length > 0) {
    const sellerEmails = new Map<string, string | null>();
    for (const part of chunks([...new Set(b.refunded.map((c) => c.trade.seller_id))])) {
      for (const a of await trx
        .selectFrom('sbx_accounts')
        .select(['account_id', 'email'])
        .where('account_id', 'in', part)
        .execute()) {
        sellerEmails.set(a.account_id, a.email);
      }
    }
    for (const c of b.refunded) {
      if (!c.trade.notify_url) continue;
      const params: Record<string, string> = {
        notify_type: 'trade_status_sync',
        trade_no: c.trade.trade_no,
        trade_status: c.closed ? 'TRADE_CLOSED' : 'TRADE_SUCCESS',
        refund_status: 'REFUND_SUCCESS',
        gmt_refund: formatBeijing(now),
        total_fee: formatYuan(c.trade.amount_fen),
        seller_id: c.trade.seller_id,
      };
      if (c.trade.out_trade_no) params['out_trade_no'] = c.trade.out_trade_no;
      const se = sellerEmails.get(c.trade.seller_id);
      if (se) params['seller_email'] = se;
      if (c.trade.buyer_email) params['buyer_email'] = c.trade.buyer_email;
      notifications.push(
        await enqueueNotification(core, trx, use, {
          partner,
          batchNo,
          tradeNo: c.trade.trade_no,
          kind: 'trade_status_sync',
          url: c.trade.notify_url,
          charset,
          signType: batch.sign_type,
          params,
        }),
      );
    }
  }
  return notifications;
}
