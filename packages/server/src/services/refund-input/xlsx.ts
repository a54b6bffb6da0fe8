/**
 * `.xlsx` workbooks, read with exceljs (streamed: rows are read one at a time, shared strings cached; only the
 * first worksheet). Cells become text as the operator sees them; a long number (a 28-digit trade number typed
 * into a number cell has already lost its last digits) is reported rather than guessed.
 */
import { Readable } from 'node:stream';
import type { LineIssue } from './types.js';
import { type TableReader, tableReader } from './table.js';

/** A cell value of exceljs as text, or `{ bad }` when it cannot be text faithfully. */
function cellText(v: unknown): string | { bad: string } {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') {
    if (Number.isInteger(v) && !Number.isSafeInteger(v))
      return {
        bad: `the cell holds the number ${v}, which has lost digits; format the column as text (文本) and type the number again`,
      };
    return String(v);
  }
  if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE';
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (Array.isArray(o['richText']))
      return (o['richText'] as Array<{ text?: unknown }>).map((p) => String(p.text ?? '')).join('');
    if ('result' in o) return cellText(o['result']);
    if (typeof o['text'] === 'string') return o['text'];
    if ('error' in o) return { bad: `the cell is an error (${String(o['error'])}); type the value` };
  }
  return String(v);
}

/** Reads the first worksheet of an .xlsx file into refund lines. */
export async function rowsFromXlsx(
  bytes: Uint8Array,
): Promise<{ rows: ReturnType<TableReader['finish']>['rows']; issues: LineIssue[] }> {
  const ExcelJS = (await import('exceljs')).default;
  const reader = tableReader();
  let width = 0;
  try {
    const wb = new ExcelJS.stream.xlsx.WorkbookReader(Readable.from([Buffer.from(bytes)]), {
      sharedStrings: 'cache',
      hyperlinks: 'ignore',
      styles: 'ignore',
      worksheets: 'emit',
      entries: 'emit',
    });
    for await (const sheet of wb) {
      for await (const row of sheet) {
        const values = row.values as unknown[];
        const fields: string[] = [];
        let bad: Map<number, string> | undefined;
        const n = Math.max(values.length - 1, width);
        for (let k = 0; k < n; k++) {
          const t = cellText(values[k + 1]);
          if (typeof t === 'string') fields.push(t);
          else {
            fields.push('');
            bad ??= new Map();
            bad.set(k, t.bad);
          }
        }
        if (width === 0 && fields.some((f) => f.trim() !== '')) width = fields.length;
        reader.push(bad ? { line: row.number, fields, bad } : { line: row.number, fields });
      }
      break; // the first worksheet only
    }
  } catch (e) {
    const { rows, issues } = reader.finish();
    issues.push({
      line: 0,
      field: 'file',
      code: 'XLSX_UNREADABLE',
      message: `the .xlsx file cannot be read (${(e as Error).message}); save it again from Excel as .xlsx, or as CSV UTF-8`,
    });
    return { rows, issues };
  }
  return reader.finish();
}

function csvCell(cell: string): string {
  return /[",\r\n]/.test(cell) ? `"${cell.replace(/"/g, '""')}"` : cell;
}

/**
 * The first worksheet of an .xlsx file as CSV text whose line N is the sheet's row N (missing rows are blank
 * lines), for readers of CSV such as the trade import. Cells that cannot be text faithfully are reported by
 * row and column.
 */
export async function xlsxToCsv(
  bytes: Uint8Array,
): Promise<{ text: string; issues: Array<{ line: number; field: string; message: string }> }> {
  const ExcelJS = (await import('exceljs')).default;
  const lines: string[] = [];
  const issues: Array<{ line: number; field: string; message: string }> = [];
  const wb = new ExcelJS.stream.xlsx.WorkbookReader(Readable.from([Buffer.from(bytes)]), {
    sharedStrings: 'cache',
    hyperlinks: 'ignore',
    styles: 'ignore',
    worksheets: 'emit',
    entries: 'emit',
  });
  for await (const sheet of wb) {
    for await (const row of sheet) {
      while (lines.length < row.number - 1) lines.push('');
      const values = row.values as unknown[];
      const cells: string[] = [];
      for (let k = 1; k < values.length; k++) {
        const t = cellText(values[k]);
        if (typeof t === 'string') cells.push(csvCell(t));
        else {
          cells.push('');
          issues.push({ line: row.number, field: `column ${k}`, message: t.bad });
        }
      }
      lines.push(cells.join(','));
    }
    break;
  }
  return { text: lines.join('\n'), issues };
}
