/**
 * Step 1 of a bulk run: the file checked as a whole before anything is sent. The bytes must be UTF-8; the rows
 * follow the SDK's rules in the configured charset, with no duplicates ({@link checkFile}); each trade is
 * registered, free and has the balance in the merchant database ({@link checkTrades}).
 */
import type { Charset, RefundMode } from '@alirefund/protocol';
import type { AlirefundServer } from '@alirefund/server';
import { type InputFormat, type LineIssue, parseInput } from './input.js';
import { type BulkItem, checkAgainstTrades, validateRows } from './validate.js';

/** The file's text, or '' and the NOT_UTF8 issue. */
export function decodeUtf8(bytes: Uint8Array): { text: string; issues: LineIssue[] } {
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(bytes), issues: [] };
  } catch {
    return {
      text: '',
      issues: [
        {
          line: 0,
          field: 'file',
          code: 'NOT_UTF8',
          message:
            'the file is not valid UTF-8 (saved as GBK?); save it as UTF-8 — the charset sent to Alipay is ALIPAY_INPUT_CHARSET',
        },
      ],
    };
  }
}

/**
 * The rules that need nothing but the file: the refund items in file order and every issue (after
 * `fileIssues`, those of the file as a whole), sorted by line.
 */
export function checkFile(
  file: string,
  text: string,
  fileIssues: readonly LineIssue[],
  opts: { charset: Charset; mode: RefundMode },
): { format: InputFormat; items: BulkItem[]; issues: LineIssue[] } {
  const parsed = parseInput(file, text);
  const checked = validateRows(parsed.rows, opts);
  const issues = [...fileIssues, ...parsed.issues, ...checked.issues].sort((a, b) => a.line - b.line);
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
