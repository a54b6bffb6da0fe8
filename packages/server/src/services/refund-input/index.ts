/**
 * The one reader of refund files, for the CLI's bulk refunds (`alirefund refund --file`) and the console's
 * template page: CSV in UTF-8 (with or without BOM) or GBK (detected), JSON Lines, and `.xlsx`, with the same
 * English and Chinese column names (交易号 / 支付宝交易号 → trade_no, 商户订单号 → out_trade_no, 退款金额 →
 * amount, 退款原因 → reason, …). Every row is read and every problem reported with its line and field.
 */
import { csvRecords } from '../csv.js';
import { decodeText, looksLikeZip } from './decode.js';
import { rowsFromJsonLines } from './jsonl.js';
import { rowsFromTable } from './table.js';
import type { ParsedInput, RefundInputFormat } from './types.js';
import { rowsFromXlsx } from './xlsx.js';

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

/** Picks the format from the file name, else from the content (a zip is .xlsx, a leading `{` JSON Lines). */
export function detectRefundFormat(fileName: string, bytes: Uint8Array): RefundInputFormat {
  const lower = fileName.toLowerCase();
  if (lower.endsWith('.xlsx')) return 'xlsx';
  if (lower.endsWith('.csv')) return 'csv';
  if (lower.endsWith('.jsonl') || lower.endsWith('.ndjson') || lower.endsWith('.json')) return 'jsonl';
  if (looksLikeZip(bytes)) return 'xlsx';
  for (let i = 0; i < bytes.length && i < 4096; i++) {
    const b = bytes[i]!;
    if (b === 0xef || b === 0xbb || b === 0xbf || b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d)
      continue;
    return b === 0x7b ? 'jsonl' : 'csv';
  }
  return 'csv';
}

/** Reads a refund file of any supported format from its bytes. */
export async function readRefundInput(fileName: string, bytes: Uint8Array): Promise<ParsedInput> {
  const format = detectRefundFormat(fileName, bytes);
  if (format === 'xlsx') {
    if (!looksLikeZip(bytes)) {
      return {
        format,
        encoding: null,
        rows: [],
        issues: [
          {
            line: 0,
            field: 'file',
            code: 'XLSX_UNREADABLE',
            message:
              'the file is named .xlsx but is not an Excel workbook; save it from Excel as .xlsx, or as CSV',
          },
        ],
      };
    }
    return { format, encoding: null, ...(await rowsFromXlsx(bytes)) };
  }
  return readRefundText(format, bytes);
}

/** CSV or JSON Lines from bytes (UTF-8 or GBK), synchronously. */
export function readRefundText(format: 'csv' | 'jsonl', bytes: Uint8Array): ParsedInput {
  const { text, encoding } = decodeText(bytes);
  const read = format === 'csv' ? rowsFromTable(csvRecords(text)) : rowsFromJsonLines(text);
  return { format, encoding, ...read };
}
