/**
 * Merchant order numbers (商户订单号, out_trade_no) to Alipay trade numbers, through the store: a line that names
 * only its order gets the trade number of the one trade registered with it; an order with no trade, with several,
 * or naming a different trade than the line's trade_no is a problem of that line.
 */
import type { InputRow, LineIssue } from './types.js';

/** Alipay's trade numbers are digits (the SDK's TRADE_NO_RE); merchant order numbers may be anything. */
const TRADE_NO_SHAPE = /^\d{6,64}$/;

/** What the resolution needs of the trade service. */
export interface OrderLookup {
  findByOutTradeNo(outTradeNos: readonly string[]): Promise<Map<string, string[]>>;
}

/** Fills `tradeNo` of every row that names an order (in place); returns the problems, one per line at most. */
export async function resolveOrderNumbers(
  rows: Array<InputRow & { orderInTradeColumn?: boolean }>,
  trades: OrderLookup,
): Promise<LineIssue[]> {
  const issues: LineIssue[] = [];
  // An order number written in the trade_no column (anything but digits cannot be a trade number) is one too.
  for (const r of rows)
    if (r.outTradeNo === '' && r.tradeNo !== '' && !TRADE_NO_SHAPE.test(r.tradeNo)) {
      r.outTradeNo = r.tradeNo;
      r.tradeNo = '';
      r.orderInTradeColumn = true;
    }
  const outs = [...new Set(rows.filter((r) => r.outTradeNo !== '').map((r) => r.outTradeNo))];
  if (outs.length === 0) return issues;
  const found = await trades.findByOutTradeNo(outs);
  for (const r of rows) {
    if (r.outTradeNo === '') continue;
    const nos = found.get(r.outTradeNo) ?? [];
    if (r.tradeNo !== '') {
      if (nos.length > 0 && !nos.includes(r.tradeNo))
        issues.push({
          line: r.line,
          field: 'out_trade_no',
          code: 'ORDER_TRADE_MISMATCH',
          values: [r.outTradeNo, nos.join(', '), r.tradeNo],
          message: `order ${r.outTradeNo} is trade ${nos.join(', ')}, not ${r.tradeNo}; correct one of the two, or leave one of them empty`,
        });
      continue;
    }
    if (nos.length === 0 && r.orderInTradeColumn) {
      // Neither a trade number nor a known order: the SDK's rules say what a trade number looks like.
      r.tradeNo = r.outTradeNo;
      r.outTradeNo = '';
    } else if (nos.length === 0)
      issues.push({
        line: r.line,
        field: 'out_trade_no',
        code: 'ORDER_NOT_FOUND',
        values: [r.outTradeNo],
        message: `no registered trade has the merchant order number ${r.outTradeNo}; check the number, or import the trade (with its out_trade_no) first`,
      });
    else if (nos.length > 1)
      issues.push({
        line: r.line,
        field: r.orderInTradeColumn ? 'trade_no' : 'out_trade_no',
        code: 'ORDER_AMBIGUOUS',
        values: [r.outTradeNo, nos.slice(0, 5).join(', ')],
        message: `order ${r.outTradeNo} has ${nos.length} trades (${nos.slice(0, 5).join(', ')}); write the trade number (trade_no) of the one to refund`,
      });
    else r.tradeNo = nos[0]!;
  }
  return issues;
}

/** An item of a request (API, console) that names its trade by number or by merchant order number. */
export interface OrderItem {
  tradeNo: string;
  outTradeNo?: string | undefined;
}

/**
 * Fills `tradeNo` of every item that gives only `outTradeNo` (in place), as {@link resolveOrderNumbers} does for
 * file rows; returns the problems by item index (field `outTradeNo`).
 */
export async function resolveOrderItems(
  items: OrderItem[],
  trades: OrderLookup,
): Promise<Array<{ index: number; field: string; code: string; message: string }>> {
  const rows = items.map((it, index) => ({
    line: index,
    tradeNo: it.tradeNo,
    outTradeNo: it.outTradeNo?.trim() ?? '',
    amountText: '',
    reason: '',
    royalties: [],
  }));
  const issues = await resolveOrderNumbers(rows, trades);
  rows.forEach((r, k) => {
    items[k]!.tradeNo = r.tradeNo;
  });
  return issues.map((i) => ({ index: i.line, field: 'outTradeNo', code: i.code, message: i.message }));
}
