/**
 * A refund file read in chunks of rows (the CLI's bulk runs: 100,000 lines): the bytes are decoded a piece at a
 * time (each piece ends at a line break outside quotes), so the whole text and every row never exist at once. The
 * rows, issues and lines are those {@link readRefundInput} gives for the same bytes, in the same order.
 */
import { isUtf8 } from 'node:buffer';
import { csvRecords } from '../csv.js';
import { detectRefundFormat, readRefundInput } from './read.js';
import { noJsonRows, rowsFromJsonLines } from './jsonl.js';
import { tableReader } from './table.js';
import type { InputRow, LineIssue, RefundInputFormat } from './types.js';

/** A chunk of a file: its rows and the problems found on their lines (or on the file as a whole). */
export interface RefundChunk {
  format: RefundInputFormat;
  encoding: 'utf-8' | 'gbk' | null;
  rows: InputRow[];
  issues: LineIssue[];
}

/** Bytes decoded per piece (a piece is extended to the next line break, and past quoted line breaks). */
const PIECE_BYTES = 1 << 18;

/** The text of `bytes` in pieces that end at a line break outside quotes (`quotes`: CSV), with their first line. */
function* textPieces(
  bytes: Uint8Array,
  encoding: 'utf-8' | 'gbk',
  quotes: boolean,
): Generator<{ text: string; firstLine: number }> {
  // A BOM is dropped by the first decode, as decodeText does.
  const decoder = new TextDecoder(encoding, { ignoreBOM: false });
  let firstLine = 0;
  let carry = '';
  let carryQuotes = 0;
  for (let start = 0; start < bytes.length; ) {
    let end = Math.min(bytes.length, start + PIECE_BYTES);
    // 0x0A is never part of a multi-byte character in UTF-8 or GBK.
    while (end < bytes.length && bytes[end - 1] !== 0x0a) end++;
    const text = carry + decoder.decode(bytes.subarray(start, end), { stream: end < bytes.length });
    start = end;
    if (quotes) {
      // Inside a quoted field ("" counts twice): read on to the next piece.
      for (let i = text.indexOf('"', carry.length); i >= 0; i = text.indexOf('"', i + 1)) carryQuotes++;
      if (carryQuotes % 2 === 1 && start < bytes.length) {
        carry = text;
        continue;
      }
    }
    carry = '';
    carryQuotes = 0;
    yield { text, firstLine };
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) firstLine++;
  }
}

/**
 * The rows of a refund file, about `rowsPerChunk` at a time, each chunk with the issues of its lines; the
 * problems of the file as a whole (no header, no rows) come with the last chunk. An .xlsx workbook comes whole.
 */
export async function* readRefundChunks(
  fileName: string,
  bytes: Uint8Array,
  rowsPerChunk = 5000,
): AsyncGenerator<RefundChunk> {
  const format = detectRefundFormat(fileName, bytes);
  if (format === 'xlsx') {
    yield await readRefundInput(fileName, bytes);
    return;
  }
  const encoding = isUtf8(bytes) ? 'utf-8' : 'gbk';
  if (format === 'jsonl') {
    let any = false;
    for (const piece of textPieces(bytes, encoding, false)) {
      const read = rowsFromJsonLines(piece.text, { firstLine: piece.firstLine });
      any ||= read.rows.length > 0 || read.issues.length > 0;
      yield { format, encoding, ...read };
    }
    if (!any) yield { format, encoding, rows: [], issues: [noJsonRows()] };
    return;
  }
  const reader = tableReader();
  let pending = 0;
  for (const piece of textPieces(bytes, encoding, true)) {
    for (const record of csvRecords(piece.text)) {
      record.line += piece.firstLine;
      reader.push(record);
      if (++pending >= rowsPerChunk) {
        pending = 0;
        yield { format, encoding, ...reader.drain() };
      }
    }
  }
  yield { format, encoding, ...reader.finish() };
}
