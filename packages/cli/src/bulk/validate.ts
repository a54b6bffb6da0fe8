/**
 * Validation of a whole bulk file before anything is sent: the SDK's rules (amount format, reason characters and
 * length in the configured charset, royalty parts, pwd without royalty), duplicates within the file, and the
 * store's view of each trade (registered, free, refundable balance, at most 99 refunds). Every problem is
 * collected with its line and field; nothing stops at the first.
 */
import {
  type Charset,
  type DetailRecord,
  MAX_ISSUES,
  parseYuan,
  type RefundMode,
  validateDetailRecords,
} from '@alirefund/protocol';
import { tradeRefundIssues } from '@alirefund/server';
import { type InputRow, type LineIssue, royaltyItem } from './input.js';
import type { BulkItem } from './items.js';

/** A trade as the refund checks read it (`services.refunds.tradeStates`). */
type TradeState = NonNullable<Parameters<typeof tradeRefundIssues>[1]>;

/** Maps the SDK's field names back to the file's column names. */
function columnOf(field: string): string {
  if (field === 'tradeNo') return 'trade_no';
  if (field === 'amount' || field === 'reason') return field;
  const m = /^royalties\[(\d+)\]\.(\w+)$/.exec(field);
  if (m) {
    const part = m[2]!;
    const col = part.startsWith('out')
      ? 'royalty_from'
      : part.startsWith('in')
        ? 'royalty_to'
        : part === 'amount'
          ? 'royalty_amount'
          : 'royalty_reason';
    return m[1] === '0' ? col : `${col}[${m[1]}]`;
  }
  return field;
}

/**
 * The rules that need nothing but the file: amounts, the SDK's record rules in `charset` for `mode`, and
 * duplicates (`firstLine`: each trade number's first line so far, shared by the chunks of one file). Returns the
 * refund items (in file order) and every issue (sorted by line).
 */
export function validateRows(
  rows: readonly InputRow[],
  opts: { charset: Charset; mode: RefundMode },
  firstLine: Map<string, number> = new Map(),
): { items: BulkItem[]; issues: LineIssue[] } {
  const issues: LineIssue[] = [];
  const items: BulkItem[] = [];
  const badAmount = new Set<number>();
  for (const r of rows) {
    let amountFen = parseYuan(r.amountText);
    if (amountFen === null) {
      badAmount.add(r.line);
      issues.push({
        line: r.line,
        field: 'amount',
        code: 'DETAIL_DATA_FORMAT_ERROR',
        message:
          r.amountText === ''
            ? 'the amount is empty; write the refund in yuan, e.g. 12.50'
            : `"${r.amountText}" is not an amount in yuan with at most 2 decimals (e.g. 12.50; no sign, currency or thousands separator)`,
      });
      amountFen = 1;
    }
    const royalties = r.royalties.map((y, j) => {
      const fen = parseYuan(y.amountText);
      if (fen === null)
        issues.push({
          line: r.line,
          field: j === 0 ? 'royalty_amount' : `royalty_amount[${j}]`,
          code: 'DETAIL_DATA_FORMAT_ERROR',
          message: `royalty amount "${y.amountText}" is not an amount in yuan with at most 2 decimals`,
        });
      return royaltyItem(y, fen ?? 1);
    });
    const first = firstLine.get(r.tradeNo);
    if (first !== undefined && r.tradeNo !== '') {
      issues.push({
        line: r.line,
        field: 'trade_no',
        code: 'DUPLICATE_TRADE_NO',
        message: `trade ${r.tradeNo} is already on line ${first}; one refund per trade per file (merge the two lines, or run the second refund in another file after this one)`,
      });
    } else firstLine.set(r.tradeNo, r.line);
    items.push({
      line: r.line,
      tradeNo: r.tradeNo,
      amountFen,
      reason: r.reason,
      ...(royalties.length > 0 ? { royalties } : {}),
    });
  }
  // The SDK's record rules, in chunks (each call reports at most MAX_ISSUES; a full chunk is redone per record).
  const CHUNK = 40;
  const sdk = (slice: readonly BulkItem[]) =>
    validateDetailRecords(
      slice.map(
        (it): DetailRecord => ({
          tradeNo: it.tradeNo,
          amountFen: it.amountFen,
          reason: it.reason,
          ...(it.royalties ? { royalties: it.royalties } : {}),
        }),
      ),
      { charset: opts.charset, mode: opts.mode },
    );
  for (let start = 0; start < items.length; start += CHUNK) {
    const slice = items.slice(start, start + CHUNK);
    let found = sdk(slice).map((c) => ({ c, base: start }));
    if (found.length >= MAX_ISSUES) {
      found = slice.flatMap((it, k) => sdk([it]).map((c) => ({ c: { ...c, record: 1 }, base: start + k })));
    }
    for (const { c, base } of found) {
      if (c.code === 'DUBL_TRADE_NO_IN_SAME_BATCH') continue; // reported file-wide above
      const item = c.record === null ? undefined : items[base + c.record - 1];
      if (!item) continue;
      const column = columnOf(c.field);
      if (column === 'amount' && badAmount.has(item.line)) continue;
      issues.push({ line: item.line, field: column, code: c.code, message: c.message });
    }
  }
  issues.sort((a, b) => a.line - b.line);
  return { items, issues };
}

/**
 * The store's checks (what createBatches would refuse), for every line at once: the trade is registered (the
 * merchant's orders), belongs to the configured partner, is not reserved by an open batch, has fewer than 99
 * refunds, and its refundable balance (paid − refunded − reserved) covers the amount.
 */
export function checkAgainstTrades(
  items: readonly BulkItem[],
  trades: ReadonlyMap<string, TradeState>,
  partner: string,
): LineIssue[] {
  const column = { tradeNo: 'trade_no', amount: 'amount', royalties: 'royalty_from' } as const;
  const issues: LineIssue[] = [];
  for (const it of items) {
    for (const i of tradeRefundIssues(it, trades.get(it.tradeNo), partner)) {
      issues.push({ line: it.line, field: column[i.field], code: i.code, message: i.message });
    }
  }
  return issues;
}
