/**
 * The shapes of a refund file as read: one row per refund line (amounts still text), and every problem with its
 * line and field. Shared by the CLI's bulk refunds and the console's template page.
 */

export type RefundInputFormat = 'csv' | 'jsonl' | 'xlsx';

/** A royalty part as written: `from` gives it back to `to` (each an email or a 2088… user id). */
export interface RoyaltyInput {
  from: string;
  to: string;
  amountText: string;
  reason: string;
}

/** One refund line of the file, as written (amounts are still text: the SDK rules check them later). */
export interface InputRow {
  /** 1-based line number in the file (the row number in a spreadsheet) where the row starts. */
  line: number;
  /** Alipay's trade number (支付宝交易号); '' when the line names only the merchant order number. */
  tradeNo: string;
  /** The merchant order number (商户订单号), resolved to a trade number through the store; '' when absent. */
  outTradeNo: string;
  amountText: string;
  reason: string;
  /** Royalty (分润) parts to pull back with the refund (nopwd only). */
  royalties: RoyaltyInput[];
}

/** One problem in the file: where (line, field), a stable code and what to do. */
export interface LineIssue {
  /** 1-based line number; 0 for the file as a whole. */
  line: number;
  field: string;
  code: string;
  message: string;
  /** The message's particulars (a column name, an order number…), for a translation of it (console zh/en). */
  values?: string[];
}

export interface ParsedInput {
  format: RefundInputFormat;
  /** How the text was decoded (null for .xlsx). */
  encoding: 'utf-8' | 'gbk' | null;
  rows: InputRow[];
  issues: LineIssue[];
}
