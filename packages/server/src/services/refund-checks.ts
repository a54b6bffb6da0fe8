/**
 * Checking a refund selection before anything is written: item shapes, the merchant's own records (registered,
 * free, under the refunds cap, refundable balance), the SDK's detail_data rules, and the split into batches.
 */
import {
  type Charset,
  type CodecIssue,
  type DetailRecord,
  encodeDetailData,
  formatYuan,
  MAX_BATCH_RECORDS,
  TRADE_NO_RE,
  validateDetailRecords,
} from '@alirefund/protocol';
import type { Kysely } from 'kysely';
import type { RefundMode, ServerDB } from '../db.js';
import { type ItemIssue, ServiceError } from '../errors.js';
import type { BatchPlan, PreviewResult, RefundItem } from './refund-types.js';
import { MAX_REFUNDS_PER_TRADE, type TradeService, type TradeView } from './trades.js';

/** A refund item as far as the local checks need it. */
export interface RefundCheckItem {
  tradeNo: string;
  amountFen: number;
  royalties?: readonly unknown[] | undefined;
}

/**
 * What the merchant's own records say against refunding `item` (what createBatches would refuse): the trade is
 * registered, belongs to `partner` (when given), is not reserved by an open batch, has fewer than 99 refunds, its
 * refundable balance (paid − refunded − reserved) covers the amount, and royalty parts exist to pull back.
 * Shared by createBatches and the CLI's whole-file validation. Fields: `tradeNo`, `amount`, `royalties`.
 */
export function tradeRefundIssues(
  item: RefundCheckItem,
  t: TradeView | undefined,
  partner?: string,
): Array<{ field: 'tradeNo' | 'amount' | 'royalties'; code: string; message: string }> {
  const out: Array<{ field: 'tradeNo' | 'amount' | 'royalties'; code: string; message: string }> = [];
  if (!t) {
    out.push({
      field: 'tradeNo',
      code: 'TRADE_NOT_FOUND',
      message: `trade ${item.tradeNo} is not registered in the merchant database; register or import it first (POST /api/trades or the console's import)`,
    });
    return out;
  }
  if (partner !== undefined && t.partner !== partner) {
    out.push({
      field: 'tradeNo',
      code: 'NOT_THIS_PARTNERS_TRADE',
      message: `trade ${item.tradeNo} belongs to partner ${t.partner}, not ${partner}`,
    });
    return out;
  }
  if (t.openBatchNo !== null) {
    out.push({
      field: 'tradeNo',
      code: 'TRADE_IN_OPEN_BATCH',
      message: `trade ${item.tradeNo} is already in open batch ${t.openBatchNo}; wait for its result (or cancel it) first`,
    });
    return out;
  }
  if (t.refundCount >= MAX_REFUNDS_PER_TRADE) {
    out.push({
      field: 'tradeNo',
      code: 'REFUND_LIMIT_REACHED',
      message: `trade ${item.tradeNo} already has ${t.refundCount} refunds (at most 99)`,
    });
    return out;
  }
  const refundable = t.paidFen - t.refundedFen - t.reservedFen;
  if (item.amountFen > refundable) {
    out.push({
      field: 'amount',
      code: 'EXCEEDS_REFUNDABLE',
      message: `${formatYuan(item.amountFen)} yuan is more than the refundable ${formatYuan(Math.max(0, refundable))} yuan of trade ${item.tradeNo} (paid ${formatYuan(t.paidFen)}, refunded ${formatYuan(t.refundedFen)}${t.reservedFen > 0 ? `, reserved ${formatYuan(t.reservedFen)}` : ''})`,
    });
  }
  if ((item.royalties ?? []).length > 0 && !t.hasRoyalty) {
    out.push({
      field: 'royalties',
      code: 'NO_ROYALTY_ON_TRADE',
      message: `trade ${item.tradeNo} was paid without royalty parts to pull back`,
    });
  }
  return out;
}

/** Maps an SDK issue on record `record` (1-based within a batch) back to the request item. */
export function fromCodec(issue: CodecIssue, itemIndexes: readonly number[]): ItemIssue {
  const index = issue.record === null ? null : (itemIndexes[issue.record - 1] ?? null);
  return { index, field: issue.field, code: issue.code, message: issue.message };
}

function checkItemShapes(items: readonly RefundItem[], mode: RefundMode): ItemIssue[] {
  const issues: ItemIssue[] = [];
  const seen = new Map<string, number>();
  // One `add` for every item (not a closure per item: a bulk selection has 10,000 of them).
  let index = 0;
  const add = (field: string, code: string, message: string) => {
    issues.push({ index, field, code, message });
  };
  for (; index < items.length; index++) {
    const it = items[index]!;
    if (typeof it.tradeNo !== 'string' || !TRADE_NO_RE.test(it.tradeNo)) {
      add('tradeNo', 'INVALID_TRADE_NO', 'tradeNo must be the Alipay trade number (6 to 64 digits)');
    } else if (seen.has(it.tradeNo)) {
      add(
        'tradeNo',
        'DUBL_TRADE_NO_IN_SAME_BATCH',
        `trade ${it.tradeNo} is selected twice (also item ${seen.get(it.tradeNo)}); one refund per trade per selection`,
      );
    } else seen.set(it.tradeNo, index);
    const royaltyOnly = it.amountFen === 0 && (it.royalties ?? []).length > 0 && mode === 'nopwd';
    if (!Number.isSafeInteger(it.amountFen) || it.amountFen < 0 || (it.amountFen === 0 && !royaltyOnly)) {
      add(
        'amount',
        'INVALID_AMOUNT',
        'the refund amount must be at least 0.01 yuan, with at most 2 decimals',
      );
    }
    if (typeof it.reason !== 'string')
      add('reason', 'INVALID_REASON', 'reason must be text (it may be empty)');
  }
  return issues;
}

function checkAgainstTrades(items: readonly RefundItem[], found: Map<string, TradeView>): ItemIssue[] {
  const issues: ItemIssue[] = [];
  items.forEach((it, index) => {
    for (const i of tradeRefundIssues(it, found.get(it.tradeNo))) issues.push({ index, ...i });
  });
  return issues;
}

function toRecord(it: RefundItem): DetailRecord {
  const r: DetailRecord = { tradeNo: it.tradeNo, amountFen: it.amountFen, reason: it.reason };
  if (it.royalties !== undefined && it.royalties.length > 0)
    r.royalties = it.royalties.map((x) => ({ ...x }));
  return r;
}

/**
 * Validates a selection (shapes, local state read through `db`, the SDK's rules per batch) and splits it into
 * batches of `batchSize` records. Writes nothing.
 */
export async function planBatches(
  ctx: { trades: TradeService; charset: Charset },
  items: readonly RefundItem[],
  mode: RefundMode,
  batchSize: number,
  db: Kysely<ServerDB>,
): Promise<PreviewResult> {
  if (mode !== 'pwd' && mode !== 'nopwd') {
    throw new ServiceError('VALIDATION_FAILED', 'mode must be pwd or nopwd', 'mode');
  }
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_BATCH_RECORDS) {
    throw new ServiceError('VALIDATION_FAILED', `batchSize must be 1 to ${MAX_BATCH_RECORDS}`, 'batchSize');
  }
  if (items.length === 0) {
    return {
      batches: [],
      issues: [
        { index: null, field: 'items', code: 'NO_ITEMS', message: 'select at least one trade to refund' },
      ],
    };
  }
  const issues = checkItemShapes(items, mode);
  const found = await ctx.trades.getMany(
    [...new Set(items.map((i) => i.tradeNo).filter((t) => typeof t === 'string'))],
    db,
  );
  issues.push(...checkAgainstTrades(items, found).filter((i) => !issues.some((j) => j.index === i.index)));
  const batches: BatchPlan[] = [];
  for (let start = 0; start < items.length; start += batchSize) {
    const itemIndexes = items.slice(start, start + batchSize).map((_, k) => start + k);
    const records = itemIndexes.map((i) => toRecord(items[i]!));
    const codec = validateDetailRecords(records, {
      charset: ctx.charset,
      mode,
      batchNum: records.length,
    });
    issues.push(...codec.map((c) => fromCodec(c, itemIndexes)));
    let detailData = '';
    try {
      detailData = encodeDetailData(records);
    } catch {
      // reported by validateDetailRecords
    }
    batches.push({
      itemIndexes,
      records,
      detailData,
      recordCount: records.length,
      totalFen: records.reduce((s, r) => s + r.amountFen, 0),
    });
  }
  issues.sort((a, b) => (a.index ?? -1) - (b.index ?? -1));
  return { batches, issues };
}
