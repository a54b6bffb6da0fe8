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
import type { RefundMode, ServerDatabase } from '../db.js';
import { type ItemIssue, ServiceError } from '../errors.js';
import type { BatchPlan, PreviewResult, RefundItem } from './refund-types.js';
import { CHUNK, compiled, valuesText } from './sql-text.js';
import { MAX_REFUNDS_PER_TRADE, type TradeService, type TradeView } from './trades.js';

/** What the refund checks read of a trade (a few columns, not the whole {@link TradeView}). */
export type TradeRefundState = Pick<
  TradeView,
  | 'tradeNo'
  | 'partner'
  | 'paidFen'
  | 'refundedFen'
  | 'reservedFen'
  | 'refundCount'
  | 'openBatchNo'
  | 'hasRoyalty'
>;

/** The amount reserved is looked up only for a trade in an open batch (a join would probe it for every trade). */
const STATES_HEAD =
  'select t.trade_no, t.partner, t.paid_fen, t.refunded_fen, t.refund_count, t.open_batch_no, t.has_royalty, ' +
  'case when t.open_batch_no is null then null else (select r.amount_fen from srv_batch_records r ' +
  'where r.batch_no = t.open_batch_no and r.trade_no = t.trade_no) end as reserved_fen ' +
  'from srv_trades t where t.trade_no in (';

interface StateRow {
  trade_no: string;
  partner: string;
  paid_fen: number | bigint;
  refunded_fen: number | bigint;
  refund_count: number | bigint;
  open_batch_no: string | null;
  has_royalty: number | bigint | boolean;
  reserved_fen: number | bigint | null;
}

/**
 * The refund checks' view of trades `tradeNos` (unknown ones left out): the columns {@link tradeRefundIssues}
 * needs, read with one fixed statement per {@link CHUNK} numbers. Pass a transaction's `db` inside one.
 */
export async function readTradeStates(
  database: ServerDatabase,
  tradeNos: readonly string[],
  db = database.db,
): Promise<Map<string, TradeRefundState>> {
  const out = new Map<string, TradeRefundState>();
  for (let i = 0; i < tradeNos.length; i += CHUNK) {
    const chunk = tradeNos.slice(i, i + CHUNK);
    const text = `${STATES_HEAD}${valuesText('?', chunk.length)})`;
    const { rows } = await db.executeQuery(compiled(database.dialect, text, chunk));
    for (const r of rows as StateRow[])
      out.set(r.trade_no, {
        tradeNo: r.trade_no,
        partner: r.partner,
        paidFen: Number(r.paid_fen),
        refundedFen: Number(r.refunded_fen),
        reservedFen: Number(r.reserved_fen ?? 0),
        refundCount: Number(r.refund_count),
        openBatchNo: r.open_batch_no,
        hasRoyalty: Number(r.has_royalty) === 1,
      });
  }
  return out;
}

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
  t: TradeRefundState | undefined,
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

function checkAgainstTrades(
  items: readonly RefundItem[],
  found: ReadonlyMap<string, TradeRefundState>,
): ItemIssue[] {
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
 * Validates a selection (shapes, local state, the SDK's rules per batch) and splits it into batches of
 * `batchSize` records. Writes nothing. `tradesChecked`: the caller has just checked every item against the
 * trades ({@link tradeRefundIssues}), so they are not read again; the reservation in createBatches still takes
 * each trade only if it is free and has the balance at that moment.
 */
export async function planBatches(
  ctx: { trades: TradeService; database: ServerDatabase; charset: Charset },
  items: readonly RefundItem[],
  mode: RefundMode,
  batchSize: number,
  tradesChecked = false,
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
  if (!tradesChecked) {
    const found = await ctx.trades.getMany(
      [...new Set(items.map((i) => i.tradeNo).filter((t) => typeof t === 'string'))],
      ctx.database.db,
    );
    const shaky = new Set(issues.map((j) => j.index));
    issues.push(...checkAgainstTrades(items, found).filter((i) => !shaky.has(i.index)));
  }
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
