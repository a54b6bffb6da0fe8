/**
 * A processed record as it is stored and read back: `sbx_batch_records` rows ↔ the SDK's ResultRecord,
 * `sbx_unfreezes` rows → `unfreezed_details` records, what each trade has been refunded so far, the status that
 * follows from it, and the share of the fee a refund hands back. The engine, the gateway's query, the 充退
 * settlement, the admin API and the state page all read records through these.
 */
import { type ResultRecord, type UnfreezeRecord, formatBeijing, formatYuan } from '@alirefund/protocol';
import type { Kysely } from 'kysely';
import { chunks } from '../core.js';
import type { SandboxDB } from '../schema.js';

/**
 * What each trade has been refunded so far: the sum and the number of its succeeded batch records. The
 * cumulative-refund and 99-refunds rules read it; so does the admin API's trade view.
 */
export async function refundedSums(
  db: Kysely<SandboxDB>,
  tradeNos: readonly string[],
): Promise<Map<string, { fen: number; count: number }>> {
  const out = new Map<string, { fen: number; count: number }>();
  for (const part of chunks(tradeNos)) {
    const rows = await db
      .selectFrom('sbx_batch_records')
      .select((eb) => [
        'trade_no',
        eb.fn.sum<number>('amount_fen').as('fen'),
        eb.fn.countAll<number>().as('count'),
      ])
      .where('trade_no', 'in', part)
      .where('succeeded', '=', 1)
      .groupBy('trade_no')
      .execute();
    for (const r of rows) out.set(r.trade_no, { fen: Number(r.fen), count: Number(r.count) });
  }
  return out;
}

/**
 * The status a trade has now: a TRADE_SUCCESS trade whose refunds reach its amount is TRADE_CLOSED.
 */
export function effectiveStatus(baseStatus: string, amountFen: number, refundedFen: number): string {
  return baseStatus === 'TRADE_SUCCESS' && amountFen > 0 && refundedFen >= amountFen
    ? 'TRADE_CLOSED'
    : baseStatus;
}

/**
 * The part of a trade's fee handed back once `refundedFen` of its `amountFen` has been refunded: pro rata,
 * rounded half up, so that a full refund hands back exactly the whole fee (protocol.md §9.15 says "pro-rata";
 * the rounding is ours [INF]). A record's fee refund is the difference before and after it.
 */
export function feeRefundedFor(feeFen: number, amountFen: number, refundedFen: number): number {
  if (feeFen <= 0 || amountFen <= 0) return 0;
  const r = Math.min(refundedFen, amountFen);
  return Math.floor((2 * feeFen * r + amountFen) / (2 * amountFen));
}

/** Status and code of an `unfreezed_details` record for a release that happened [INF: values not documented]. */
export const UNFREEZE_STATUS = 'S';
export const UNFREEZE_CODE = 'SUCCESS';

/** The non-trade parts of a result, as stored in `sbx_batch_records.parts_json`. */
export function partsJson(r: ResultRecord): string | null {
  if (!r.charge && !r.royalties && !r.subTrade) return null;
  return JSON.stringify({ charge: r.charge, royalties: r.royalties, subTrade: r.subTrade });
}

/** Rebuilds a record's ResultRecord from its `sbx_batch_records` row. */
export function resultFromRow(row: {
  trade_no: string;
  amount_fen: number;
  amount_text: string;
  code: string;
  parts_json: string | null;
  dback_status?: 'P' | 'S' | 'F' | null;
}): ResultRecord {
  const r: ResultRecord = {
    tradeNo: row.trade_no,
    amountFen: Number(row.amount_fen),
    amountText: row.amount_text,
    code: row.code,
    succeeded: row.code === 'SUCCESS',
  };
  // A refund of a bank-card trade has the 5-field form with the current 充退 status.
  if (row.dback_status) {
    r.toBankCard = true;
    r.bankCardStatus = row.dback_status;
  }
  if (row.parts_json !== null) {
    const parts = JSON.parse(row.parts_json) as Pick<ResultRecord, 'charge' | 'royalties' | 'subTrade'>;
    if (parts.charge) r.charge = parts.charge;
    if (parts.royalties) r.royalties = parts.royalties;
    if (parts.subTrade) r.subTrade = parts.subTrade;
  }
  return r;
}

/** An `sbx_unfreezes` row as an `unfreezed_details` record (for the SDK's encoder). */
export function unfreezeRecordOf(u: {
  unfreeze_order_no: string;
  freeze_order_no: string;
  amount_fen: number;
  trade_no: string;
  processed_at: number;
  status: string;
  code: string;
}): UnfreezeRecord {
  const fen = Number(u.amount_fen);
  return {
    unfreezeOrderNo: u.unfreeze_order_no,
    freezeOrderNo: u.freeze_order_no,
    amountFen: fen,
    amountText: formatYuan(fen),
    tradeNo: u.trade_no,
    processedAt: formatBeijing(Number(u.processed_at)),
    status: u.status,
    code: u.code,
  };
}
