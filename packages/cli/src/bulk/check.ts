/**
 * Step 1 of a bulk run: the file checked as a whole before anything is sent, every problem of every line in one
 * pass. The server's reader decodes it (UTF-8 or GBK, CSV, JSON Lines or .xlsx) a chunk of rows at a time; in
 * each chunk merchant order numbers are resolved to trade numbers through the store, the rows follow the SDK's
 * rules in the configured charset with no duplicates (across the whole file), and each trade is registered, free
 * and has the balance in the merchant database (read once, only the columns the checks need). Format and business
 * problems are reported together. Only the compact items ({@link BulkItems}) and the issues outlive a chunk.
 */
import { TRADE_NO_RE, type Charset, type RefundMode } from '@alirefund/protocol';
import {
  type AlirefundServer,
  type InputRow,
  readRefundChunks,
  resolveOrderNumbers,
} from '@alirefund/server';
import type { InputFormat, LineIssue } from './input.js';
import { type BulkItem, BulkItems } from './items.js';
import { checkAgainstTrades, validateRows } from './validate.js';

/** Fields that name the trade of a line: a problem on one of them means the trade is unknown. */
const TRADE_FIELDS: ReadonlySet<string> = new Set(['trade_no', 'out_trade_no']);

/** Rows read and checked at a time (an .xlsx workbook comes whole). */
const CHUNK_ROWS = 1000;

export interface CheckedFile {
  format: InputFormat;
  items: BulkItems;
  /** Sorted by line; within a line: the reader's first, then the order numbers', the format's, the store's. */
  issues: LineIssue[];
}

/**
 * Every problem of the file `fileName` (`bytes`): the reader's, the order numbers' (resolved through `server`),
 * the SDK's record rules and duplicates, and the store's view of each trade whose line names one clearly.
 * Returns the refund items in file order and the issues sorted by line.
 */
export async function checkFile(
  server: AlirefundServer,
  fileName: string,
  bytes: Uint8Array,
  opts: { charset: Charset; mode: RefundMode; partner: string },
): Promise<CheckedFile> {
  const items = new BulkItems();
  const issues: LineIssue[] = [];
  const firstLine = new Map<string, number>();
  let format: InputFormat = 'csv';
  for await (const chunk of readRefundChunks(fileName, bytes, CHUNK_ROWS)) {
    format = chunk.format;
    await checkRows(server, chunk.rows, chunk.issues, firstLine, items, issues, opts);
  }
  // A stable sort: within a line, the order in which the checks found them.
  issues.sort((a, b) => a.line - b.line);
  return { format, items, issues };
}

/** The checks of one chunk of rows; its items go to `items`, its problems to `issues`. */
async function checkRows(
  server: AlirefundServer,
  rows: InputRow[],
  readerIssues: readonly LineIssue[],
  firstLine: Map<string, number>,
  items: BulkItems,
  issues: LineIssue[],
  opts: { charset: Charset; mode: RefundMode; partner: string },
): Promise<void> {
  const resolution = await resolveOrderNumbers(rows, server.services.trades);
  const unknownTrade = new Set(resolution.map((i) => i.line));
  for (const i of readerIssues) if (TRADE_FIELDS.has(i.field)) unknownTrade.add(i.line);
  const checked = validateRows(rows, opts, firstLine);
  const format = checked.issues.filter((i) => !(i.field === 'trade_no' && unknownTrade.has(i.line)));
  // The store's checks, for lines whose trade is clear (well-formed, named once) and whose amount is readable.
  const skip = new Set(unknownTrade);
  const badAmount = new Set<number>();
  for (const i of format) {
    if (i.field === 'trade_no') skip.add(i.line);
    if (i.field === 'amount') badAmount.add(i.line);
  }
  const clear = checked.items.filter((it) => !skip.has(it.line) && TRADE_NO_RE.test(it.tradeNo));
  const business = (await checkTrades(server, clear, opts.partner)).filter(
    (i) => !(i.field === 'amount' && badAmount.has(i.line)),
  );
  for (const it of checked.items) items.push(it);
  issues.push(...readerIssues, ...resolution, ...format, ...business);
}

/** The merchant database's view of `items`' trades (the columns the checks need), and its issues. */
export async function checkTrades(
  server: AlirefundServer,
  items: readonly BulkItem[],
  partner: string,
): Promise<LineIssue[]> {
  const trades = await server.services.refunds.tradeStates(items.map((c) => c.tradeNo));
  return checkAgainstTrades(items, trades, partner);
}
