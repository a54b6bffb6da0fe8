/**
 * `refund_fastpay_query` (protocol.md §13): the results of the partner's processed records by `batch_no` and/or
 * `trade_no`, `batch_no^`-prefixed, with the `unfreezed_details` of the frozen funds they released. Unsigned.
 */
import { type ResultRecord, encodeResultDetails, encodeUnfreezedDetails } from '@alirefund/protocol';
import type { Core } from '../core.js';
import { resultFromRow, unfreezeRecordOf } from '../processing/records.js';
import type { CommonOk } from './checks.js';
import { logRequest, queryReply } from './replies.js';
import type { GatewayRequest } from './request.js';

/** refund_fastpay_query (protocol.md §13): results of processed batches, `batch_no^`-prefixed. */
export async function query(core: Core, r: GatewayRequest, common: CommonOk): Promise<Response> {
  const batchNo = r.params['batch_no'];
  const tradeNo = r.params['trade_no'];
  let q = core.db
    .selectFrom('sbx_batch_records')
    .select([
      'batch_no',
      'record_no',
      'trade_no',
      'amount_fen',
      'amount_text',
      'code',
      'parts_json',
      'dback_status',
    ])
    .where('partner', '=', common.partner.partner)
    .orderBy('processed_at', 'asc')
    .orderBy('batch_no', 'asc')
    .orderBy('record_no', 'asc');
  if (batchNo !== undefined) q = q.where('batch_no', '=', batchNo);
  if (tradeNo !== undefined) q = q.where('trade_no', '=', tradeNo);
  const rows = await q.execute();
  if (rows.length === 0) {
    await logRequest(core, r, 'REFUND_NOT_EXIST', null);
    return queryReply(
      common.charset,
      'is_success=F&error_code=REFUND_NOT_EXIST',
      'no processed refund matches batch_no/trade_no for this partner',
    );
  }
  const records: ResultRecord[] = rows.map((row) => ({
    ...resultFromRow(row),
    batchNo: row.batch_no,
  }));
  let text = `is_success=T&result_details=${encodeResultDetails(records, { withBatchNo: true })}`;
  // Frozen funds released by the records found (protocol.md §13: `[&unfreezed_details=…]`).
  let uq = core.db
    .selectFrom('sbx_unfreezes')
    .selectAll()
    .where('partner', '=', common.partner.partner)
    .orderBy('processed_at', 'asc')
    .orderBy('batch_no', 'asc')
    .orderBy('record_no', 'asc')
    .orderBy('unfreeze_order_no', 'asc');
  if (batchNo !== undefined) uq = uq.where('batch_no', '=', batchNo);
  if (tradeNo !== undefined) uq = uq.where('trade_no', '=', tradeNo);
  const unfreezes = await uq.execute();
  if (unfreezes.length > 0)
    text += `&unfreezed_details=${encodeUnfreezedDetails(unfreezes.map(unfreezeRecordOf))}`;
  await logRequest(core, r, 'T', null);
  return queryReply(common.charset, text);
}
