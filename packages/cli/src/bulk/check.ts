/**
 * Step 1 of a bulk run: the file checked as a whole before anything is sent, every problem of every line in one
 * pass. The server's reader decodes it (UTF-8 or GBK, CSV, JSON Lines or .xlsx); merchant order numbers are
 * resolved to trade numbers through the store; the rows follow the SDK's rules in the configured charset, with no
 * duplicates; and each trade is registered, free and has the balance in the merchant database. Format and
 * business problems are reported together.
 */
import { TRADE_NO_RE, type Charset, type RefundMode } from '@alirefund/protocol';
import { type AlirefundServer, type ParsedInput, resolveOrderNumbers } from '@alirefund/server';
import type { InputFormat, LineIssue } from './input.js';
import { type BulkItem, checkAgainstTrades, validateRows } from './validate.js';

/** Fields that name the trade of a line: a problem on one of them means the trade is unknown. */
const TRADE_FIELDS: ReadonlySet<string> = new Set(['trade_no', 'out_trade_no']);

/**
 * Every problem of the file: the reader's, the order numbers' (resolved in place through `server`), the SDK's
 * record rules and duplicates, and the store's view of each trade whose line names one clearly. Returns the
 * refund items in file order and the issues sorted by line (within a line: the reader's first, then the
 * format's, then the store's).
 */
export async function checkAll(
  server: AlirefundServer,
  parsed: ParsedInput,
  opts: { charset: Charset; mode: RefundMode; partner: string },
): Promise<{ format: InputFormat; items: BulkItem[]; issues: LineIssue[] }> {
  const resolution = await resolveOrderNumbers(parsed.rows, server.services.trades);
  const unknownTrade = new Set(resolution.map((i) => i.line));
  for (const i of parsed.issues) if (TRADE_FIELDS.has(i.field)) unknownTrade.add(i.line);
  const checked = validateRows(parsed.rows, opts);
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
  const issues = [...parsed.issues, ...resolution, ...format, ...business].sort((a, b) => a.line - b.line);
  return { format: parsed.format, items: checked.items, issues };
}

/** The merchant database's view of every trade, read a few thousand at a time. */
export async function checkTrades(
  server: AlirefundServer,
  items: readonly BulkItem[],
  partner: string,
): Promise<LineIssue[]> {
  const issues: LineIssue[] = [];
  for (let i = 0; i < items.length; i += 5000) {
    const chunk = items.slice(i, i + 5000);
    const trades = await server.services.trades.getMany(chunk.map((c) => c.tradeNo));
    issues.push(...checkAgainstTrades(chunk, trades, partner));
  }
  return issues;
}
