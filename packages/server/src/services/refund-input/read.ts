/**
 * A refund file read whole: the format from its name or content, then CSV / JSON Lines (UTF-8 or GBK) or .xlsx.
 */
import { csvRecords } from '../csv.js';
import { decodeText, looksLikeZip } from './decode.js';
import { rowsFromJsonLines } from './jsonl.js';
import { rowsFromTable } from './table.js';
import type { ParsedInput, RefundInputFormat } from './types.js';
import { rowsFromXlsx } from './xlsx.js';

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
