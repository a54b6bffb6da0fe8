/**
 * 充退 (refunds of bank-card trades back to the card) and frozen funds, as the admin API drives them.
 *
 * A successful refund of a trade paid by bank card leaves the seller for `SYS:DBACK` (money on its way to the
 * card) and reports `^true^P` in `result_details`. Settling it (`S` or `F`, admin API) moves it on to
 * `SYS:BUYERS` (F: the card refused it and it went to the buyer's balance instead [INF]) and, when the batch gave
 * a `dback_notify_url`, queues a `dback_notify` to it. Neither the settlement delay nor that notification's
 * parameters are documented (protocol.md §11); ours are [INF]: `notify_time`, `notify_type=batch_refund_dback_notify`,
 * `notify_id`, `sign_type`, `sign`, `batch_no` and `result_details` holding the one record in the 5-field form
 * with its final status (`trade_no^amount^SUCCESS^true^S`), signed like every notification.
 */
import { type Charset, encodeResultDetails, parseYuan } from '@alirefund/protocol';
import { withTransaction } from '@alirefund/store';
import type { Core } from './core.js';
import { BUYERS_ACCOUNT, DBACK_ACCOUNT, existingFreezes, insertFreeze, postTransfer } from './entities.js';
import { type Enqueued, enqueueNotification } from './outbox.js';
import { resultFromRow } from './processing/records.js';

/** `notify_type` of the 充退 notification [INF]. */
export const DBACK_NOTIFY_TYPE = 'batch_refund_dback_notify';

export type SettleOutcome =
  | { ok: true; status: 'S' | 'F'; notification: Enqueued | null }
  | { ok: false; error: 'not_found' | 'conflict'; message: string };

/** Settles the 充退 of one record (status P) as S or F: ledger, record, and the dback notification. */
export async function settleDback(
  core: Core,
  ref: { partner: string; batchNo: string; recordNo: number },
  status: 'S' | 'F',
): Promise<SettleOutcome> {
  let reorderUsed = 0;
  const outcome = await withTransaction(core.database, async (trx): Promise<SettleOutcome> => {
    reorderUsed = 0;
    const row = await trx
      .selectFrom('sbx_batch_records')
      .selectAll()
      .where('partner', '=', ref.partner)
      .where('batch_no', '=', ref.batchNo)
      .where('record_no', '=', ref.recordNo)
      .executeTakeFirst();
    if (!row || row.dback_status === null)
      return {
        ok: false,
        error: 'not_found',
        message: `no refund to a bank card at ${ref.partner}/${ref.batchNo} record ${ref.recordNo}`,
      };
    const now = core.now();
    // Conditional update: two settlements racing cannot both move the money.
    const updated = await trx
      .updateTable('sbx_batch_records')
      .set({ dback_status: status, dback_settled_at: now })
      .where('partner', '=', ref.partner)
      .where('batch_no', '=', ref.batchNo)
      .where('record_no', '=', ref.recordNo)
      .where('dback_status', '=', 'P')
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) !== 1)
      return { ok: false, error: 'conflict', message: `this 充退 was already settled (${row.dback_status})` };
    await postTransfer(trx, {
      from: DBACK_ACCOUNT,
      to: BUYERS_ACCOUNT,
      amountFen: Number(row.amount_fen),
      kind: 'dback',
      partner: ref.partner,
      batchNo: ref.batchNo,
      tradeNo: row.trade_no,
      at: now,
    });
    const batch = await trx
      .selectFrom('sbx_batches')
      .select(['dback_notify_url', 'charset', 'sign_type'])
      .where('partner', '=', ref.partner)
      .where('batch_no', '=', ref.batchNo)
      .executeTakeFirstOrThrow();
    let notification: Enqueued | null = null;
    if (batch.dback_notify_url) {
      const use = { reorder: 0 };
      notification = await enqueueNotification(core, trx, use, {
        partner: ref.partner,
        batchNo: ref.batchNo,
        tradeNo: row.trade_no,
        kind: 'dback_notify',
        url: batch.dback_notify_url,
        charset: batch.charset as Charset,
        signType: batch.sign_type,
        params: {
          notify_type: DBACK_NOTIFY_TYPE,
          batch_no: ref.batchNo,
          result_details: encodeResultDetails([
            resultFromRow({ ...row, dback_status: status, parts_json: null }),
          ]),
        },
      });
      reorderUsed = use.reorder;
    }
    return { ok: true, status, notification };
  });
  if (outcome.ok) {
    if (reorderUsed > 0) {
      core.faults.notify.reorder = Math.max(0, core.faults.notify.reorder - reorderUsed);
      await core.saveSettings();
    }
    core.kick();
  }
  return outcome;
}

export type FreezeOutcome =
  | { ok: true }
  | { ok: false; error: 'not_found' | 'conflict' | 'insufficient'; message: string };

/** Freezes part of a partner's available balance under a new freeze order (admin API). */
export async function freezeFromBalance(
  core: Core,
  partner: string,
  f: { freezeOrderNo: string; amount: string },
): Promise<FreezeOutcome> {
  return withTransaction(core.database, async (trx): Promise<FreezeOutcome> => {
    const account = await trx
      .selectFrom('sbx_partners')
      .innerJoin('sbx_accounts', 'sbx_accounts.account_id', 'sbx_partners.partner')
      .select('balance_fen')
      .where('partner', '=', partner)
      .executeTakeFirst();
    if (!account) return { ok: false, error: 'not_found', message: `no partner ${partner}` };
    if ((await existingFreezes(trx, [f.freezeOrderNo])).length > 0)
      return { ok: false, error: 'conflict', message: `freeze order ${f.freezeOrderNo} already exists` };
    const fen = parseYuan(f.amount) ?? 0;
    if (Number(account.balance_fen) < fen)
      return {
        ok: false,
        error: 'insufficient',
        message: `partner ${partner} has ${Number(account.balance_fen)} fen available, less than ${fen}`,
      };
    await insertFreeze(trx, partner, f, 'balance', core.now());
    return { ok: true };
  });
}
