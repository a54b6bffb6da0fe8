/**
 * JSON Lines: one object per line, keys as the CSV columns (English or Chinese: `{"trade_no","amount","reason"}`,
 * `{"商户订单号","退款金额","退款原因"}`) plus `royalties: [{"from","to","amount","reason"}]`.
 */
import { columnOf, describeColumns } from './columns.js';
import type { InputRow, LineIssue } from './types.js';

function textField(
  v: unknown,
  name: string,
  line: number,
  issues: LineIssue[],
  opts: { allowNumber?: boolean; required?: boolean } = {},
): string {
  if (typeof v === 'string') return v;
  if (v === undefined || v === null) {
    if (opts.required !== false)
      issues.push({ line, field: name, code: 'MISSING_FIELD', message: `"${name}" is missing` });
    return '';
  }
  if (opts.allowNumber && typeof v === 'number' && Number.isFinite(v)) return String(v);
  issues.push({
    line,
    field: name,
    code: 'INVALID_FIELD',
    message: `"${name}" must be a string${opts.allowNumber ? ' (or a number)' : ''}${name === 'trade_no' || name === 'out_trade_no' ? '; write trade and order numbers as strings, JSON numbers lose digits' : ''}`,
  });
  return '';
}

/** The problem of a JSON Lines file without a line. */
export function noJsonRows(): LineIssue {
  return { line: 0, field: 'file', code: 'NO_ROWS', message: 'the file has no refund lines' };
}

/**
 * Reads JSON Lines text into refund lines. `part`: the text is a piece of a file whose first line is line
 * `firstLine + 1` (a streamed file), so a piece without rows is not reported as an empty file.
 */
export function rowsFromJsonLines(
  text: string,
  part?: { firstLine: number },
): { rows: InputRow[]; issues: LineIssue[] } {
  const issues: LineIssue[] = [];
  const rows: InputRow[] = [];
  let line = part?.firstLine ?? 0;
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const s = text.slice(start, end).trim();
    start = end + 1;
    line++;
    if (s === '') continue;
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
      continue;
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      issues.push({
        line,
        field: 'line',
        code: 'JSON_SYNTAX',
        message: 'each line must be one JSON object {"trade_no","amount","reason"}',
      });
      continue;
    }
    const o: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(v)) {
      if (key === 'royalties') o[key] = value;
      else {
        const name = columnOf(key);
        if (name === undefined || name.startsWith('royalty_'))
          issues.push({
            line,
            field: key,
            code: 'UNKNOWN_FIELD',
            message: `unknown field "${key}"; the fields are ${describeColumns().replace(/, royalty_from.*$/, '')} and royalties (optional)`,
          });
        else o[name] = value;
      }
    }
    const hasOrder = o['out_trade_no'] !== undefined;
    const row: InputRow = {
      line,
      tradeNo: textField(o['trade_no'], 'trade_no', line, issues, { required: !hasOrder }).trim(),
      outTradeNo: textField(o['out_trade_no'], 'out_trade_no', line, issues, { required: false }).trim(),
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
  }
  if (part === undefined && rows.length === 0 && issues.length === 0) issues.push(noJsonRows());
  return { rows, issues };
}
