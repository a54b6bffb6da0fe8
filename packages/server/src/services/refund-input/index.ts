/**
 * The one reader of refund files, for the CLI's bulk refunds (`alirefund refund --file`) and the console's
 * template page: CSV in UTF-8 (with or without BOM) or GBK (detected), JSON Lines, and `.xlsx`, with the same
 * English and Chinese column names (交易号 / 支付宝交易号 → trade_no, 商户订单号 → out_trade_no, 退款金额 →
 * amount, 退款原因 → reason, …). Every row is read and every problem reported with its line and field.
 */
export {
  columnOf as refundColumnOf,
  describeColumns as describeRefundColumns,
  REFUND_COLUMN_ALIASES,
  REFUND_COLUMNS,
  type RefundColumn,
} from './columns.js';
export { decodeText, looksLikeZip, type TextEncoding } from './decode.js';
export { xlsxToCsv } from './xlsx.js';
export { type OrderItem, type OrderLookup, resolveOrderItems, resolveOrderNumbers } from './resolve.js';
export type { InputRow, LineIssue, ParsedInput, RefundInputFormat, RoyaltyInput } from './types.js';
export { detectRefundFormat, readRefundInput, readRefundText } from './read.js';
export { type RefundChunk, readRefundChunks } from './stream.js';
