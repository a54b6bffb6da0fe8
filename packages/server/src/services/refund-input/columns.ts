/**
 * The columns of a refund file and their accepted spellings (English and the Chinese an operator's Excel has),
 * the same for CSV, .xlsx and the keys of JSON Lines.
 */

/** The canonical columns: one of trade_no / out_trade_no, amount and reason; royalty columns optional. */
export const REFUND_COLUMNS = [
  'trade_no',
  'out_trade_no',
  'amount',
  'reason',
  'royalty_from',
  'royalty_to',
  'royalty_amount',
  'royalty_reason',
] as const;
export type RefundColumn = (typeof REFUND_COLUMNS)[number];

export const ROYALTY_COLUMNS = ['royalty_from', 'royalty_to', 'royalty_amount', 'royalty_reason'] as const;

/** Accepted spellings of each column (compared lower-case, without spaces, full-width brackets as ASCII). */
export const REFUND_COLUMN_ALIASES: Readonly<Record<RefundColumn, readonly string[]>> = {
  trade_no: ['trade_no', 'tradeno', 'alipay_trade_no', '支付宝交易号', '交易号', '支付宝交易号码'],
  out_trade_no: ['out_trade_no', 'outtradeno', 'order_no', 'order_id', '商户订单号', '订单号', '商户单号'],
  amount: ['amount', 'refund_amount', '退款金额', '退款金额(元)', '金额', '金额(元)'],
  reason: ['reason', 'refund_reason', '退款原因', '退款理由', '退款说明', '备注'],
  royalty_from: ['royalty_from', '分润转出方', '分润退回方', '分润转出账号'],
  royalty_to: ['royalty_to', '分润转入方', '分润转入账号'],
  royalty_amount: ['royalty_amount', '分润金额', '分润退回金额'],
  royalty_reason: ['royalty_reason', '分润原因', '分润说明'],
};

/** A header cell as compared: lower-case, no spaces, full-width brackets as ASCII, no BOM. */
export function normalizeHeader(raw: string): string {
  return raw
    .replace(/^\ufeff/, '')
    .trim()
    .toLowerCase()
    .replace(/\s+/g, '')
    .replace(/（/g, '(')
    .replace(/）/g, ')');
}

const LOOKUP: ReadonlyMap<string, RefundColumn> = new Map(
  REFUND_COLUMNS.flatMap((col) => REFUND_COLUMN_ALIASES[col].map((a) => [normalizeHeader(a), col] as const)),
);

/** The canonical column of a header cell, or undefined when it is not one. */
export function columnOf(raw: string): RefundColumn | undefined {
  return LOOKUP.get(normalizeHeader(raw));
}

/** "trade_no (交易号, 支付宝交易号), out_trade_no (商户订单号), …" for messages. */
export function describeColumns(): string {
  return REFUND_COLUMNS.map((c) => {
    const zh = REFUND_COLUMN_ALIASES[c].filter((a) => /[^\x00-\x7f]/.test(a)).slice(0, 2);
    return zh.length > 0 ? `${c} (${zh.join('/')})` : c;
  }).join(', ');
}
