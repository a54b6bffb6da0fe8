/**
 * Rows of a table (CSV records or spreadsheet rows) into refund lines: the header names the columns (English or
 * Chinese, see columns.ts), every data row becomes an {@link InputRow}, and every problem is collected with its
 * line; nothing stops at the first.
 */
import { columnOf, describeColumns, REFUND_COLUMNS, type RefundColumn } from './columns.js';
import type { InputRow, LineIssue } from './types.js';

/** A row of the table: its cells as text and the line (row number) it starts on. */
export interface TableRecord {
  line: number;
  fields: string[];
  /** Broken quoting (CSV). */
  error?: string;
  /** Cells of this row that could not be read as text faithfully, by column index (xlsx: long numbers). */
  bad?: ReadonlyMap<number, string>;
}

function splitList(value: string): string[] {
  return value === '' ? [] : value.split(';').map((s) => s.trim());
}

/** Reads refund lines from `records` (the first non-blank one is the header). */
export function rowsFromTable(records: Iterable<TableRecord>): { rows: InputRow[]; issues: LineIssue[] } {
  const reader = tableReader();
  for (const r of records) reader.push(r);
  return reader.finish();
}

/** A table read one record at a time (a streamed spreadsheet), then {@link TableReader.finish}ed. */
export interface TableReader {
  push(record: TableRecord): void;
  /** The rows and issues read since the last drain (a streamed file hands them on in chunks). */
  drain(): { rows: InputRow[]; issues: LineIssue[] };
  /** The rest, with the problems of the file as a whole (no header, no rows). */
  finish(): { rows: InputRow[]; issues: LineIssue[] };
}

export function tableReader(): TableReader {
  let issues: LineIssue[] = [];
  let rows: InputRow[] = [];
  /** Rows and issues handed on by drain(). */
  let drained = 0;
  let col: Map<RefundColumn, number> | null = null;
  let width = 0;
  let header: TableRecord | undefined;
  let usable = true;
  // One function for every row (not a closure per row: 100,000 of them cost more than the parsing).
  let r: TableRecord = { line: 0, fields: [] };
  const get = (name: RefundColumn) => {
    const k = col?.get(name);
    return k === undefined ? '' : (r.fields[k] ?? '');
  };
  const push = (record: TableRecord): void => {
    r = record;
    if (r.fields.every((f) => f.trim() === '')) return;
    if (col === null) {
      header = r;
      col = new Map();
      width = r.fields.length;
      r.fields.forEach((raw, k) => {
        const name = columnOf(raw);
        const shown = raw.trim();
        if (name === undefined) {
          if (shown === '') return;
          issues.push({
            line: r.line,
            field: `column ${k + 1}`,
            code: 'UNKNOWN_COLUMN',
            values: [shown],
            message: `unknown column "${shown}"; the columns are ${describeColumns()} (trade_no or out_trade_no, amount and reason required; royalty columns optional)`,
          });
        } else if (col!.has(name)) {
          issues.push({
            line: r.line,
            field: name,
            code: 'DUPLICATE_COLUMN',
            values: [shown],
            message: `column "${shown}" is ${name} again (already column ${col!.get(name)! + 1}); keep one`,
          });
        } else col!.set(name, k);
      });
      const missing: string[] = [];
      if (!col.has('trade_no') && !col.has('out_trade_no')) missing.push('trade_no (or out_trade_no)');
      if (!col.has('amount')) missing.push('amount');
      if (!col.has('reason')) missing.push('reason');
      if (missing.length > 0) {
        issues.push({
          line: r.line,
          field: 'header',
          code: 'MISSING_COLUMN',
          values: [missing.join(', ')],
          message: `the first row must name the columns; missing: ${missing.join(', ')} (e.g. trade_no,amount,reason or 商户订单号,退款金额,退款原因${col.size === 0 ? '; is the header row missing?' : ''})`,
        });
        usable = false;
      }
      const royaltyCols = (['royalty_from', 'royalty_to', 'royalty_amount'] as const).filter((c) =>
        col!.has(c),
      );
      if (royaltyCols.length > 0 && royaltyCols.length < 3) {
        issues.push({
          line: r.line,
          field: 'header',
          code: 'MISSING_COLUMN',
          message:
            'royalty columns come together: royalty_from, royalty_to and royalty_amount (royalty_reason optional)',
        });
      }
      return;
    }
    if (!usable) return;
    if (r.error !== undefined) {
      issues.push({ line: r.line, field: 'line', code: 'CSV_SYNTAX', message: r.error });
    }
    // Trailing empty cells (a spreadsheet row, a stray comma) are not extra fields.
    let n = r.fields.length;
    while (n > width && r.fields[n - 1]!.trim() === '') n--;
    if (n !== width) {
      issues.push({
        line: r.line,
        field: 'line',
        code: 'CSV_FIELD_COUNT',
        values: [String(n), String(width)],
        message: `${n} field(s) where the header has ${width}; quote a reason that contains a comma`,
      });
      return;
    }
    let badTrade = false;
    if (r.bad) {
      for (const [k, what] of r.bad) {
        const name = REFUND_COLUMNS.find((c) => col!.get(c) === k);
        if (name) issues.push({ line: r.line, field: name, code: 'CELL_NOT_TEXT', message: what });
        if (name === 'trade_no' || name === 'out_trade_no') badTrade = true;
      }
    }
    const row: InputRow = {
      line: r.line,
      tradeNo: get('trade_no').trim(),
      outTradeNo: get('out_trade_no').trim(),
      amountText: get('amount')
        .trim()
        .replace(/^[¥￥]\s*/, ''),
      reason: get('reason'),
      royalties: [],
    };
    if (row.tradeNo === '' && row.outTradeNo === '' && !badTrade) {
      issues.push({
        line: r.line,
        field: col.has('trade_no') ? 'trade_no' : 'out_trade_no',
        code: 'MISSING_FIELD',
        message: 'no trade: write the Alipay trade number (交易号) or the merchant order number (商户订单号)',
      });
    }
    const from = splitList(get('royalty_from'));
    const to = splitList(get('royalty_to'));
    const amounts = splitList(get('royalty_amount'));
    const reasons = get('royalty_reason') === '' ? [] : get('royalty_reason').split(';');
    const count = Math.max(from.length, to.length, amounts.length);
    if (count > 0) {
      if (
        from.length !== count ||
        to.length !== count ||
        amounts.length !== count ||
        reasons.length > count
      ) {
        issues.push({
          line: r.line,
          field: 'royalty_from',
          code: 'ROYALTY_COLUMNS_MISMATCH',
          message: `royalty_from, royalty_to and royalty_amount must list the same number of parts (separated by ";"); found ${from.length}, ${to.length} and ${amounts.length}`,
        });
      } else {
        for (let k = 0; k < count; k++)
          row.royalties.push({
            from: from[k]!,
            to: to[k]!,
            amountText: amounts[k]!,
            reason: reasons[k] ?? '',
          });
      }
    }
    rows.push(row);
  };
  const finish = () => {
    if (header === undefined) {
      issues.push({
        line: 0,
        field: 'file',
        code: 'EMPTY_FILE',
        message:
          'the file is empty; write a header row (e.g. trade_no,amount,reason or 交易号,退款金额,退款原因) and one refund per line',
      });
    } else if (usable && drained === 0 && rows.length === 0 && issues.length === 0) {
      issues.push({
        line: 0,
        field: 'file',
        code: 'NO_ROWS',
        message: 'the file has a header but no refund lines',
      });
    }
    return { rows, issues };
  };
  const drain = () => {
    const out = { rows, issues };
    drained += rows.length + issues.length;
    rows = [];
    issues = [];
    return out;
  };
  return { push, drain, finish };
}
