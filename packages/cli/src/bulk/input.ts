/**
 * Reading a bulk refund file: CSV (header `trade_no,amount,reason`, optional royalty columns) or JSON Lines
 * (`{"trade_no","amount","reason","royalties"?}` per line), detected by extension, else by content. Parsing
 * never stops at the first problem: every row is read, and every problem is reported with its line and field.
 */
import { ALIPAY_USER_ID_RE, type RoyaltyItem } from '@alirefund/protocol';
import { splitCsv } from '@alirefund/server';

export type InputFormat = 'csv' | 'jsonl';

/** One refund line of the file, as written (amounts are still text: the SDK rules check them later). */
export interface InputRow {
  /** 1-based line number in the file where the row starts. */
  line: number;
  tradeNo: string;
  amountText: string;
  reason: string;
  /** Royalty (分润) parts to pull back with the refund (nopwd only). */
  royalties: RoyaltyInput[];
}

/** A royalty part as written: `from` gives it back to `to` (each an email or a 2088… user id). */
export interface RoyaltyInput {
  from: string;
  to: string;
  amountText: string;
  reason: string;
}

/** One problem in the file: where (line, field), a stable code and what to do. */
export interface LineIssue {
  /** 1-based line number; 0 for the file as a whole. */
  line: number;
  field: string;
  code: string;
  message: string;
}

export interface ParsedInput {
  format: InputFormat;
  rows: InputRow[];
  issues: LineIssue[];
}

/** The CSV columns. The first three are required; the royalty columns are optional. */
export const CSV_COLUMNS = ['trade_no', 'amount', 'reason'] as const;
export const CSV_ROYALTY_COLUMNS = [
  'royalty_from',
  'royalty_to',
  'royalty_amount',
  'royalty_reason',
] as const;
const KNOWN_COLUMNS: ReadonlySet<string> = new Set([...CSV_COLUMNS, ...CSV_ROYALTY_COLUMNS]);
const JSON_KEYS: ReadonlySet<string> = new Set([...CSV_COLUMNS, 'royalties']);

/** Picks the format from the file name, else from the first non-blank character (`{` = JSON Lines). */
export function detectFormat(fileName: string, text: string): InputFormat {
  const lower = fileName.toLowerCase();
  if (lower.endsWith('.csv')) return 'csv';
  if (lower.endsWith('.jsonl') || lower.endsWith('.ndjson') || lower.endsWith('.json')) return 'jsonl';
  const first = /\S/.exec(text.replace(/^\uFEFF/, ''));
  return first?.[0] === '{' ? 'jsonl' : 'csv';
}

/** Parses the file's text (UTF-8, an optional BOM is ignored). */
export function parseInput(fileName: string, text: string): ParsedInput {
  const body = text.replace(/^\uFEFF/, '');
  const format = detectFormat(fileName, body);
  return format === 'csv' ? parseCsvInput(body) : parseJsonLines(body);
}

function splitList(value: string): string[] {
  return value === '' ? [] : value.split(';').map((s) => s.trim());
}

function parseCsvInput(text: string): ParsedInput {
  const records = splitCsv(text).filter((r) => !(r.fields.length === 1 && r.fields[0]!.trim() === ''));
  const issues: LineIssue[] = [];
  const rows: InputRow[] = [];
  const header = records.shift();
  if (!header) {
    issues.push({
      line: 0,
      field: 'file',
      code: 'EMPTY_FILE',
      message: 'the file is empty; write a header row trade_no,amount,reason and one refund per line',
    });
    return { format: 'csv', rows, issues };
  }
  const names = header.fields.map((h) => h.trim().toLowerCase());
  const col = new Map<string, number>();
  names.forEach((name, k) => {
    if (!KNOWN_COLUMNS.has(name)) {
      issues.push({
        line: header.line,
        field: name === '' ? `column ${k + 1}` : name,
        code: 'UNKNOWN_COLUMN',
        message: `unknown column "${name}"; the columns are ${[...CSV_COLUMNS, ...CSV_ROYALTY_COLUMNS].join(', ')} (royalty columns optional)`,
      });
    } else if (col.has(name)) {
      issues.push({
        line: header.line,
        field: name,
        code: 'DUPLICATE_COLUMN',
        message: `column "${name}" appears twice`,
      });
    } else col.set(name, k);
  });
  const missing = CSV_COLUMNS.filter((c) => !col.has(c));
  if (missing.length > 0) {
    issues.push({
      line: header.line,
      field: 'header',
      code: 'MISSING_COLUMN',
      message: `the first row must name the columns; missing: ${missing.join(', ')} (expected trade_no,amount,reason${missing.length === 3 ? '; is the header row missing?' : ''})`,
    });
    return { format: 'csv', rows, issues };
  }
  const royaltyCols = CSV_ROYALTY_COLUMNS.filter((c) => col.has(c));
  if (royaltyCols.length > 0 && royaltyCols.length < 3) {
    issues.push({
      line: header.line,
      field: 'header',
      code: 'MISSING_COLUMN',
      message:
        'royalty columns come together: royalty_from, royalty_to and royalty_amount (royalty_reason optional)',
    });
  }
  // One function for every row (not a closure per row: 100,000 of them cost more than the parsing).
  let r = records[0]!;
  const get = (name: string) => {
    const k = col.get(name);
    return k === undefined ? '' : (r.fields[k] ?? '');
  };
  for (r of records) {
    if (r.error !== undefined) {
      issues.push({ line: r.line, field: 'line', code: 'CSV_SYNTAX', message: r.error });
    }
    if (r.fields.length !== names.length) {
      issues.push({
        line: r.line,
        field: 'line',
        code: 'CSV_FIELD_COUNT',
        message: `${r.fields.length} field(s) where the header has ${names.length}; quote a reason that contains a comma`,
      });
      continue;
    }
    const row: InputRow = {
      line: r.line,
      tradeNo: get('trade_no').trim(),
      amountText: get('amount').trim(),
      reason: get('reason'),
      royalties: [],
    };
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
  }
  if (rows.length === 0 && issues.length === 0) {
    issues.push({
      line: 0,
      field: 'file',
      code: 'NO_ROWS',
      message: 'the file has a header but no refund lines',
    });
  }
  return { format: 'csv', rows, issues };
}

function textField(
  v: unknown,
  name: string,
  line: number,
  issues: LineIssue[],
  opts: { allowNumber?: boolean; required?: boolean } = {},
): string {
  if (typeof v === 'string') return v;
  if (v === undefined) {
    if (opts.required !== false)
      issues.push({ line, field: name, code: 'MISSING_FIELD', message: `"${name}" is missing` });
    return '';
  }
  if (opts.allowNumber && typeof v === 'number' && Number.isFinite(v)) return String(v);
  issues.push({
    line,
    field: name,
    code: 'INVALID_FIELD',
    message: `"${name}" must be a string${opts.allowNumber ? ' (or a number)' : ''}${name === 'trade_no' ? '; write trade numbers as strings, JSON numbers lose digits' : ''}`,
  });
  return '';
}

function parseJsonLines(text: string): ParsedInput {
  const issues: LineIssue[] = [];
  const rows: InputRow[] = [];
  const lines = text.split('\n');
  lines.forEach((raw, k) => {
    const line = k + 1;
    const s = raw.trim();
    if (s === '') return;
    let v: unknown;
    try {
      v = JSON.parse(s);
    } catch (e) {
      issues.push({
        line,
        field: 'line',
        code: 'JSON_SYNTAX',
        message: `not valid JSON: ${(e as Error).message}`,
      });
      return;
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      issues.push({
        line,
        field: 'line',
        code: 'JSON_SYNTAX',
        message: 'each line must be one JSON object {"trade_no","amount","reason"}',
      });
      return;
    }
    const o = v as Record<string, unknown>;
    for (const key of Object.keys(o)) {
      if (!JSON_KEYS.has(key))
        issues.push({
          line,
          field: key,
          code: 'UNKNOWN_FIELD',
          message: `unknown field "${key}"; the fields are trade_no, amount, reason and royalties (optional)`,
        });
    }
    const row: InputRow = {
      line,
      tradeNo: textField(o['trade_no'], 'trade_no', line, issues).trim(),
      amountText: textField(o['amount'], 'amount', line, issues, { allowNumber: true }).trim(),
      reason: textField(o['reason'], 'reason', line, issues),
      royalties: [],
    };
    const ys = o['royalties'];
    if (ys !== undefined) {
      if (!Array.isArray(ys)) {
        issues.push({
          line,
          field: 'royalties',
          code: 'INVALID_FIELD',
          message: '"royalties" must be an array of {"from","to","amount","reason"}',
        });
      } else {
        ys.forEach((y, j) => {
          const f = `royalties[${j}]`;
          if (typeof y !== 'object' || y === null) {
            issues.push({ line, field: f, code: 'INVALID_FIELD', message: `${f} must be an object` });
            return;
          }
          const yo = y as Record<string, unknown>;
          row.royalties.push({
            from: textField(yo['from'], `${f}.from`, line, issues).trim(),
            to: textField(yo['to'], `${f}.to`, line, issues).trim(),
            amountText: textField(yo['amount'], `${f}.amount`, line, issues, { allowNumber: true }).trim(),
            reason: textField(yo['reason'], `${f}.reason`, line, issues, { required: false }),
          });
        });
      }
    }
    rows.push(row);
  });
  if (rows.length === 0 && issues.length === 0) {
    issues.push({ line: 0, field: 'file', code: 'NO_ROWS', message: 'the file has no refund lines' });
  }
  return { format: 'jsonl', rows, issues };
}

/** A royalty party: a 2088… user id goes to the user id field, anything else is an email account. */
export function royaltyItem(y: RoyaltyInput, amountFen: number): RoyaltyItem {
  const fromId = ALIPAY_USER_ID_RE.test(y.from);
  const toId = ALIPAY_USER_ID_RE.test(y.to);
  return {
    outAccount: fromId ? '' : y.from,
    outUserId: fromId ? y.from : '',
    inAccount: toId ? '' : y.to,
    inUserId: toId ? y.to : '',
    amountFen,
    reason: y.reason,
  };
}
