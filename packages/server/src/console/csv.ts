/**
 * The console's side of the CSV import: decoding the upload (UTF-8, or GBK as Excel saves it in China),
 * header aliases (Chinese column names), and the physical line number of every data row, so that each problem
 * the trade service reports can be shown with the line the operator sees in an editor.
 *
 * The trade service ({@link TradeService.importCsv}) does the parsing, validation and the all-or-nothing write.
 */
import { splitCsv } from '../services/csv.js';
import { decodeText } from '../services/refund-input/decode.js';

/** The canonical columns, in the order of the template. */
export const CSV_COLUMNS = [
  'trade_no',
  'amount',
  'out_trade_no',
  'subject',
  'buyer',
  'paid_at',
  'royalty',
] as const;
export type CsvColumn = (typeof CSV_COLUMNS)[number];

/** Accepted spellings of each column (compared lower-case, without spaces). */
export const CSV_ALIASES: Readonly<Record<CsvColumn, readonly string[]>> = {
  trade_no: ['trade_no', 'tradeno', 'alipay_trade_no', '支付宝交易号', '交易号'],
  amount: ['amount', 'amount_yuan', '金额', '金额(元)', '金额（元）', '支付金额', '实付金额'],
  out_trade_no: ['out_trade_no', 'order_id', 'order_no', '商户订单号', '订单号'],
  subject: ['subject', '商品名称', '订单名称', '名称'],
  buyer: ['buyer', 'buyer_email', '买家', '买家账号'],
  paid_at: ['paid_at', '付款时间', '支付时间'],
  royalty: ['royalty', 'royalties', '分润'],
};

/** An example file: the header and three rows (the third with two royalty parts). */
export const CSV_TEMPLATE = [
  'trade_no,amount,out_trade_no,subject,buyer,paid_at,royalty',
  '2026011521001004180000001117,10.00,ORDER-0001,T恤 白色 L,buyer01@example.com,2026-01-15T10:00:00+08:00,',
  '2026011521001004180000002234,25.50,ORDER-0002,帆布包,buyer02@example.com,,',
  '2026011521001004180000003351,99.00,ORDER-0003,运动鞋,,,"2088102000000011:5.00;agent.b@example.com:1.50"',
  '',
].join('\r\n');

/** Decodes an upload: UTF-8 (with or without BOM) when valid, GBK otherwise (the refund files' decoding). */
export function decodeUpload(bytes: Uint8Array): { text: string; encoding: 'utf-8' | 'gbk' } {
  return decodeText(bytes);
}

interface Row {
  line: number;
  cells: string[];
}

/** CSV rows with the physical line each starts on; rows whose cells are all empty are skipped. */
function rowsWithLines(text: string): Row[] {
  return splitCsv(text.replace(/^\ufeff/, ''))
    .filter((r) => r.fields.some((f) => f !== ''))
    .map((r) => ({ line: r.line, cells: r.fields }));
}

function quote(cell: string): string {
  return /[",\r\n]/.test(cell) ? `"${cell.replace(/"/g, '""')}"` : cell;
}

export interface PreparedCsv {
  /** The CSV with canonical column names, for the trade service. */
  text: string;
  /** Physical line number of data row `i` (0-based, as the service's `index`). */
  lineOf: (index: number | null) => number | null;
  /** The line of the header row. */
  headerLine: number;
  /** Header problems (unknown or repeated columns); the file is refused when there are any. */
  headerIssues: { line: number; field: string; code: string; message: string }[];
  dataRows: number;
}

/** Canonicalises the header and keeps the line numbers. */
export function prepareCsv(text: string): PreparedCsv {
  const rows = rowsWithLines(text);
  const header = rows.shift();
  const headerIssues: PreparedCsv['headerIssues'] = [];
  const lookup = new Map<string, CsvColumn>();
  for (const col of CSV_COLUMNS) for (const a of CSV_ALIASES[col]) lookup.set(a.toLowerCase(), col);
  const seen = new Set<CsvColumn>();
  const names = (header?.cells ?? []).map((raw, i) => {
    const key = raw.trim().toLowerCase().replace(/\s+/g, '');
    const col = lookup.get(key);
    if (col === undefined) {
      if (key !== '') {
        headerIssues.push({
          line: header?.line ?? 1,
          field: `column ${i + 1}`,
          code: 'UNKNOWN_COLUMN',
          message: `"${raw.trim()}" is not a known column; use ${CSV_COLUMNS.join(', ')}`,
        });
      }
      return raw;
    }
    if (seen.has(col)) {
      headerIssues.push({
        line: header?.line ?? 1,
        field: `column ${i + 1}`,
        code: 'DUPLICATE_COLUMN',
        message: `column ${col} appears twice`,
      });
    }
    seen.add(col);
    return col;
  });
  const out = [names, ...rows.map((r) => r.cells)].map((cells) => cells.map(quote).join(',')).join('\r\n');
  return {
    text: header === undefined ? '' : out,
    lineOf: (index) => (index === null ? null : (rows[index]?.line ?? null)),
    headerLine: header?.line ?? 1,
    headerIssues,
    dataRows: rows.length,
  };
}
