/**
 * What the two refund services share before and at acceptance: steps 8–12 of the check order (refund_date,
 * batch_no and its duplicates, batch_num and detail_data, the seller), the batch row they lead to, the per-partner
 * batch lock (a batch accepted while another of the partner is queued fails every record with
 * BATCH_REFUND_LOCK_ERROR), and the SYSTEM_ERROR-after-accepting fault.
 */
import { type DetailRecord, SERVICE_PWD, batchNoProblem } from '@alirefund/protocol';
import type { Insertable } from 'kysely';
import type { Core, SandboxTrx } from '../core.js';
import type { BatchTable } from '../schema.js';
import { type CommonOk, type Refusal, checkDetail, checkRefundDate, refuse } from './checks.js';
import type { GatewayRequest } from './request.js';

/** The batch row of an accepted request, before the service decides its status. */
export type NewBatch = Omit<
  Insertable<BatchTable>,
  'status' | 'locked' | 'confirm_token_hash' | 'accepted_at' | 'unfreezed_details'
>;

/** A refund request that passed every check. */
export interface CheckedRefund {
  ok: true;
  batchNo: string;
  base: NewBatch;
  records: DetailRecord[];
  /** pwd: the same request again while its batch awaits confirmation (the page is shown again). */
  reshow: boolean;
}

/** Step 9's DUPLICATE_BATCH_NO (also when a concurrent request took the number first). */
export function duplicateBatchNo(batchNo: string, partner: string): Refusal {
  return refuse('DUPLICATE_BATCH_NO', `batch_no ${batchNo} was already used by partner ${partner}`);
}

/** Steps 8–12 for `refund_fastpay_by_platform_pwd` and `_nopwd` (steps 1–7 passed). */
export async function checkRefundRequest(
  core: Core,
  r: GatewayRequest,
  common: CommonOk,
): Promise<CheckedRefund | Refusal> {
  const p = r.params;
  const mode = common.service === SERVICE_PWD ? 'pwd' : 'nopwd';
  const date = checkRefundDate(core, p);
  if (date) return date;
  const batchNo = p['batch_no']!;
  const bnProblem = batchNoProblem(batchNo);
  if (bnProblem) return refuse('BATCH_NO_FORMAT_ERROR', bnProblem);
  const existing = await core.db
    .selectFrom('sbx_batches')
    .select(['status', 'service', 'detail_data', 'notify_url', 'charset'])
    .where('partner', '=', common.partner.partner)
    .where('batch_no', '=', batchNo)
    .executeTakeFirst();
  const reshow =
    existing !== undefined &&
    mode === 'pwd' &&
    existing.status === 'awaiting_confirmation' &&
    existing.service === common.service &&
    existing.detail_data === p['detail_data'] &&
    existing.notify_url === (p['notify_url'] ?? null);
  if (existing && !reshow) return duplicateBatchNo(batchNo, common.partner.partner);
  const detail = checkDetail(p, common.charset, mode);
  if (!detail.ok) return detail;
  // Step 12: the seller named by seller_user_id (wins) or seller_email must exist.
  let sellerId: string | null = null;
  const sellerRef = p['seller_user_id'] ?? p['seller_email'];
  if (sellerRef !== undefined) {
    const row = await core.db
      .selectFrom('sbx_accounts')
      .select('account_id')
      .where(p['seller_user_id'] !== undefined ? 'account_id' : 'email', '=', sellerRef)
      .executeTakeFirst();
    if (!row) return refuse('SELLER_INFO_NOT_EXIST', `seller ${sellerRef} is not an account of this sandbox`);
    sellerId = row.account_id;
  }

  const now = core.now();
  const base: NewBatch = {
    partner: common.partner.partner,
    batch_no: batchNo,
    service: common.service,
    charset: common.charset,
    sign_type: p['sign_type']!,
    notify_url: p['notify_url'] ?? null,
    seller_id: sellerId,
    use_freeze: p['use_freeze_amount'] === 'Y' ? 1 : 0,
    dback_notify_url: p['dback_notify_url'] ?? null,
    detail_data: p['detail_data']!,
    record_count: detail.records.length,
    wrong_passwords: 0,
    created_at: now,
    processed_at: null,
    success_num: null,
    result_details: null,
  };
  return { ok: true, batchNo, base, records: detail.records, reshow };
}

/** Locks the partner row on PostgreSQL so that acceptance decisions (lock, duplicates) are serialised. */
export async function lockPartner(core: Core, trx: SandboxTrx, partner: string): Promise<void> {
  if (core.database.dialect !== 'postgres') return;
  await trx.selectFrom('sbx_partners').select('partner').where('partner', '=', partner).forUpdate().execute();
}

/** Whether the partner has a batch that was accepted and is not processed yet (the batch lock). */
export async function partnerBusy(trx: SandboxTrx, partner: string, except?: string): Promise<boolean> {
  // A batch that was itself accepted under the lock (locked = 1) does not hold it.
  let q = trx
    .selectFrom('sbx_batches')
    .select('batch_no')
    .where('partner', '=', partner)
    .where('status', '=', 'queued')
    .where('locked', '=', 0);
  if (except !== undefined) q = q.where('batch_no', '!=', except);
  return (await q.limit(1).executeTakeFirst()) !== undefined;
}

/** The SYSTEM_ERROR-after-accepting fault: true (and counted down) when this reply is to be SYSTEM_ERROR. */
export async function takeSystemErrorFault(core: Core): Promise<boolean> {
  if (core.faults.systemErrorAfterAccept <= 0) return false;
  core.faults.systemErrorAfterAccept--;
  await core.saveSettings();
  return true;
}
