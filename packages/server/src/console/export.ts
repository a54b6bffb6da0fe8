/**
 * Export of every console list as CSV (UTF-8 with a BOM, so Excel on a Chinese Windows reads it) or `.xlsx`
 * (exceljs). Lists are data: each declares its columns once (heading from the catalogue, a value per row) and
 * how it reads its rows from the same query parameters as its page, so an export honours the page's filters.
 *
 * Routes: `GET /export/{list}.{csv|xlsx}?<the list's filters>`, list ∈ batches, records (`batch_no`, optional
 * `failed=1`), failed (optional `batch_no`, `outstanding=1`), notifications, audit, trades (trades and batches
 * also `from` / `to`, Beijing days; a bad day answers 400).
 */
import { formatYuan, isKnownCode, lookupCode } from '@alirefund/protocol';
import ExcelJS from 'exceljs';
import type { Hono } from 'hono';
import { BATCH_STATES, type NotificationVerdict, type RefundMode, type TradeStatus } from '../db.js';
import { nowMs } from '../context.js';
import { ServiceError } from '../errors.js';
import { dateFilter } from './date-filter.js';
import type { CCtx, ConsoleEnv } from './env.js';
import type { Dict, Lang } from './i18n.js';
import { can, h, type Html, href } from './ui.js';

/** Most rows one export writes (a bigger list is cut, the last row says so). */
export const EXPORT_MAX_ROWS = 100_000;
const PAGE = 500;

type Cell = string | number | null;
/** `money` cells are fen, written as yuan (a number with two decimals in .xlsx). */
interface Column<T> {
  head: (t: Dict) => string;
  value: (row: T, x: { t: Dict; lang: Lang }) => Cell;
  money?: boolean;
  width?: number;
}
interface ListSpec<T> {
  sheet: (t: Dict) => string;
  columns: Column<T>[];
  /** Pages of rows for the request's filters, until an empty page. */
  rows: (c: CCtx) => AsyncGenerator<T[]>;
}

/** The lists with a date range (`from` / `to`, Beijing days). */
const DATED = new Set(['trades', 'batches']);
const VERDICTS: readonly NotificationVerdict[] = ['accepted', 'duplicate', 'rejected'];
const TRADE_FILTERS = ['refundable', 'paid', 'partially_refunded', 'fully_refunded'] as const;

function q(c: CCtx, name: string, max = 100): string {
  return (c.req.query(name) ?? '').trim().slice(0, max);
}
function pick<T extends string>(c: CCtx, name: string, allowed: readonly T[]): T | undefined {
  const v = c.req.query(name);
  return v !== undefined && (allowed as readonly string[]).includes(v) ? (v as T) : undefined;
}

function codeMeaning(code: string | null, x: { t: Dict; lang: Lang }): string {
  if (!code) return '';
  if (isKnownCode(code)) {
    const info = lookupCode(code);
    return x.lang === 'en' ? info.en : info.zh;
  }
  return x.t.localCodes[code] ?? '';
}
function codeAdvice(code: string | null, x: { lang: Lang }): string {
  if (!code || code === 'SUCCESS' || !isKnownCode(code)) return '';
  const info = lookupCode(code);
  return x.lang === 'en' ? info.advice.en : info.advice.zh;
}
function result(succeeded: boolean | null, t: Dict): string {
  return succeeded === null ? t.resultPending : succeeded ? t.resultSuccess : t.resultFailed;
}

async function* paged<T>(fetch: (page: number) => Promise<{ items: T[] }>): AsyncGenerator<T[]> {
  for (let page = 1; page <= EXPORT_MAX_ROWS / PAGE; page++) {
    const { items } = await fetch(page);
    if (items.length === 0) return;
    yield items;
    if (items.length < PAGE) return;
  }
}

const batches: ListSpec<
  Awaited<ReturnType<ReturnType<typeof svc>['refunds']['listBatches']>>['items'][number]
> = {
  sheet: (t) => t.nav.batches,
  columns: [
    { head: (t) => t.batchNo, value: (b) => b.batchNo, width: 24 },
    { head: (t) => t.mode, value: (b, { t }) => (b.mode === 'pwd' ? t.modePwd : t.modeNopwd) },
    { head: (t) => t.batchStateCol, value: (b, { t }) => t.batchState[b.state] ?? b.state },
    { head: (t) => t.records, value: (b) => b.recordCount },
    { head: (t) => t.amount, value: (b) => b.totalFen, money: true },
    { head: (t) => t.succeededCol, value: (b) => b.successNum },
    { head: (t) => t.refundedAmount, value: (b) => b.successFen, money: true },
    { head: (t) => t.codeCol, value: (b) => b.gatewayCode },
    { head: (t) => t.createdAt, value: (b) => b.createdAt, width: 24 },
    { head: (t) => t.submittedAt, value: (b) => b.submittedAt, width: 24 },
    { head: (t) => t.finishedAt, value: (b) => b.finishedAt, width: 24 },
    { head: (t) => t.createdBy, value: (b) => b.createdBy },
  ],
  rows: (c) => {
    const state = pick(c, 'state', [...BATCH_STATES, 'open'] as const);
    const mode = pick(c, 'mode', ['pwd', 'nopwd'] as const) as RefundMode | undefined;
    const text = q(c, 'q', 64);
    const { range } = dateFilter(c);
    return paged((page) =>
      svc(c).refunds.listBatches({
        ...range,
        ...(state !== undefined ? { state } : {}),
        ...(mode !== undefined ? { mode } : {}),
        ...(text !== '' ? { q: text } : {}),
        page,
        pageSize: PAGE,
      }),
    );
  },
};

type RecordRow = {
  batchNo: string;
  seq: number;
  tradeNo: string;
  amountFen: number;
  reason: string;
  succeeded: boolean | null;
  resultAmountFen: number | null;
  resultCode: string | null;
  resultText: string | null;
};
const recordColumns: Column<RecordRow>[] = [
  { head: (t) => t.batchNo, value: (r) => r.batchNo, width: 24 },
  { head: (t) => t.work.seq, value: (r) => r.seq },
  { head: (t) => t.tradeNo, value: (r) => r.tradeNo, width: 30 },
  { head: (t) => t.amount, value: (r) => r.amountFen, money: true },
  { head: (t) => t.reason, value: (r) => r.reason, width: 20 },
  { head: (t) => t.result, value: (r, { t }) => result(r.succeeded, t) },
  { head: (t) => t.refundedAmount, value: (r) => (r.succeeded ? r.resultAmountFen : null), money: true },
  { head: (t) => t.codeCol, value: (r) => r.resultCode, width: 24 },
  { head: (t) => t.meaningCol, value: (r, x) => codeMeaning(r.resultCode, x), width: 30 },
  { head: (t) => t.work.advice, value: (r, x) => codeAdvice(r.resultCode, x), width: 40 },
  { head: () => 'result_details', value: (r) => r.resultText, width: 40 },
];

const records: ListSpec<RecordRow> = {
  sheet: (t) => t.work.recordsSheet,
  columns: recordColumns,
  rows: async function* (c) {
    const batchNo = q(c, 'batch_no', 64);
    const b = batchNo === '' ? null : await svc(c).refunds.getBatch(batchNo);
    if (!b) throw new ServiceError('BATCH_NOT_FOUND', `no batch ${batchNo}`, 'batch_no');
    const onlyFailed = c.req.query('failed') === '1';
    yield b.records
      .filter((r) => !onlyFailed || r.succeeded === false)
      .map((r) => ({ ...r, batchNo: b.batchNo }));
  },
};

const failed: ListSpec<RecordRow & { outstanding: boolean }> = {
  sheet: (t) => t.work.failedSheet,
  columns: [
    ...recordColumns,
    {
      head: (t) => t.status,
      value: (r, { t }) => (r.outstanding ? t.work.outstanding : t.work.retried),
    },
  ],
  rows: (c) => {
    const batchNo = q(c, 'batch_no', 64);
    const outstandingOnly = c.req.query('outstanding') === '1';
    return paged(async (page) => {
      const { items } = await svc(c).dashboard.failedRecords({
        ...(batchNo !== '' ? { batchNo } : {}),
        outstandingOnly,
        limit: PAGE,
        offset: (page - 1) * PAGE,
      });
      return {
        items: items.map((r) => ({ ...r, succeeded: false, resultAmountFen: null })),
      };
    });
  },
};

const notifications: ListSpec<
  Awaited<ReturnType<ReturnType<typeof svc>['notifications']['list']>>['items'][number]
> = {
  sheet: (t) => t.nav.notifications,
  columns: [
    { head: () => 'ID', value: (n) => n.id },
    { head: (t) => t.receivedAt, value: (n) => n.receivedAt, width: 24 },
    { head: (t) => t.kind, value: (n) => n.kind, width: 20 },
    { head: (t) => t.batchNo, value: (n) => n.batchNo, width: 24 },
    { head: (t) => t.tradeNo, value: (n) => n.tradeNo, width: 30 },
    { head: (t) => t.verdictCol, value: (n, { t }) => t.verdict[n.verdict] ?? n.verdict },
    { head: (t) => t.codeCol, value: (n) => n.reasonCode, width: 20 },
    { head: (t) => t.reasonCol, value: (n, x) => codeMeaning(n.reasonCode, x) || n.reason, width: 30 },
    { head: () => 'notify_id', value: (n) => n.notifyId, width: 30 },
    { head: (t) => t.appliedAt, value: (n) => n.appliedAt, width: 24 },
    { head: (t) => t.answer, value: (n) => n.response },
    { head: (t) => t.from, value: (n) => n.remoteAddr },
  ],
  rows: (c) => {
    const batchNo = q(c, 'batch_no', 64);
    const text = q(c, 'q');
    const verdict = pick(c, 'verdict', VERDICTS);
    const kind = pick(c, 'kind', ['batch_refund_notify', 'trade_status_sync'] as const);
    return paged((page) =>
      svc(c).notifications.list({
        ...(batchNo !== '' ? { batchNo } : {}),
        ...(text !== '' ? { q: text } : {}),
        ...(verdict !== undefined ? { verdict } : {}),
        ...(kind !== undefined ? { kind } : {}),
        page,
        pageSize: PAGE,
      }),
    );
  },
};

const audit: ListSpec<Awaited<ReturnType<ReturnType<typeof svc>['audit']['list']>>['items'][number]> = {
  sheet: (t) => t.nav.audit,
  columns: [
    { head: (t) => t.time, value: (e) => e.at, width: 24 },
    { head: (t) => t.actor, value: (e) => e.actor, width: 20 },
    { head: (t) => t.action, value: (e) => e.action, width: 20 },
    { head: (t) => t.target, value: (e) => e.target, width: 24 },
    { head: () => 'IP', value: (e) => e.ip },
    {
      head: (t) => t.details,
      value: (e) => (e.details === null ? '' : JSON.stringify(e.details)),
      width: 50,
    },
  ],
  rows: (c) => {
    const actor = q(c, 'actor', 120);
    return paged((page) =>
      svc(c).audit.list({
        ...(actor !== '' ? { actor } : {}),
        limit: PAGE,
        offset: (page - 1) * PAGE,
      }),
    );
  },
};

const trades: ListSpec<Awaited<ReturnType<ReturnType<typeof svc>['trades']['list']>>['items'][number]> = {
  sheet: (t) => t.nav.trades,
  columns: [
    { head: (t) => t.tradeNo, value: (r) => r.tradeNo, width: 30 },
    { head: (t) => t.outTradeNo, value: (r) => r.outTradeNo, width: 20 },
    { head: (t) => t.subject, value: (r) => r.subject, width: 24 },
    { head: (t) => t.buyer, value: (r) => r.buyer, width: 20 },
    { head: (t) => t.paidAt, value: (r) => r.paidAt, width: 24 },
    { head: (t) => t.paid, value: (r) => r.paidFen, money: true },
    { head: (t) => t.refunded, value: (r) => r.refundedFen, money: true },
    { head: (t) => t.refundable, value: (r) => r.refundableFen, money: true },
    { head: (t) => t.refundCount, value: (r) => r.refundCount },
    { head: (t) => t.status, value: (r, { t }) => t.tradeStatus[r.status as TradeStatus] ?? r.status },
    { head: (t) => t.openBatch, value: (r) => r.openBatchNo, width: 24 },
  ],
  rows: (c) => {
    const text = q(c, 'q');
    const status = pick(c, 'status', TRADE_FILTERS);
    const royalty = pick(c, 'royalty', ['yes', 'no'] as const);
    const { range } = dateFilter(c);
    return paged((page) =>
      svc(c).trades.list({
        ...range,
        ...(text !== '' ? { q: text } : {}),
        ...(status !== undefined ? { status } : {}),
        ...(royalty !== undefined ? { hasRoyalty: royalty === 'yes' } : {}),
        page,
        pageSize: PAGE,
      }),
    );
  },
};

function svc(c: CCtx) {
  return c.get('ctx').services;
}

// biome-ignore lint/suspicious/noExplicitAny: the lists have different row types; each is consistent in itself
export const EXPORT_LISTS: Record<string, ListSpec<any>> = {
  batches,
  records,
  failed,
  notifications,
  audit,
  trades,
};
export type ExportList = keyof typeof EXPORT_LISTS;

/** A spreadsheet cell that starts like a formula is written as text (CSV injection). */
function safeText(s: string): string {
  return /^[=+\-@\t\r]/.test(s) && !/^-?\d+(\.\d+)?$/.test(s) ? `'${s}` : s;
}

function csvField(v: Cell): string {
  if (v === null) return '';
  const s = typeof v === 'number' ? String(v) : safeText(v);
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** The rows as CSV text with a BOM and CRLF line ends. */
export function toCsv(head: string[], rows: Cell[][]): string {
  const lines = [head, ...rows].map((r) => r.map(csvField).join(','));
  return `\uFEFF${lines.join('\r\n')}\r\n`;
}

async function collect<T>(
  c: CCtx,
  spec: ListSpec<T>,
): Promise<{ head: string[]; rows: Cell[][]; money: boolean[] }> {
  const t = c.get('t');
  const x = { t, lang: c.get('lang') };
  const rows: Cell[][] = [];
  for await (const page of spec.rows(c)) {
    for (const r of page) {
      if (rows.length >= EXPORT_MAX_ROWS) break;
      rows.push(
        spec.columns.map((col) => {
          const v = col.value(r, x);
          return col.money && typeof v === 'number' ? formatYuan(v) : v;
        }),
      );
    }
  }
  return {
    head: spec.columns.map((col) => col.head(t)),
    rows,
    money: spec.columns.map((col) => !!col.money),
  };
}

async function toXlsx(sheet: string, spec: ListSpec<unknown>, data: Awaited<ReturnType<typeof collect>>) {
  const wb = new ExcelJS.Workbook();
  wb.creator = 'alirefund';
  const ws = wb.addWorksheet(sheet.slice(0, 31).replace(/[*?:\\/[\]]/g, ' '));
  ws.columns = data.head.map((header, i) => ({
    header,
    width: spec.columns[i]?.width ?? Math.max(10, header.length * 2),
    ...(data.money[i] ? { style: { numFmt: '0.00' } } : {}),
  }));
  ws.getRow(1).font = { bold: true };
  ws.views = [{ state: 'frozen', ySplit: 1 }];
  for (const r of data.rows) {
    ws.addRow(
      r.map((v, i) =>
        data.money[i] && typeof v === 'string' && v !== '' ? Number(v) : v === null ? null : v,
      ),
    );
  }
  return Buffer.from(await wb.xlsx.writeBuffer());
}

function stamp(c: CCtx): string {
  const d = new Date(nowMs(c.get('ctx').clock) + 8 * 3600_000).toISOString();
  return `${d.slice(0, 10).replaceAll('-', '')}-${d.slice(11, 19).replaceAll(':', '')}`;
}

export function registerExport(con: Hono<ConsoleEnv>): void {
  con.get('/export/:file{[a-z]+\\.(?:csv|xlsx)}', async (c) => {
    const [name = '', format] = c.req.param('file').split('.');
    const spec = Object.hasOwn(EXPORT_LISTS, name) ? EXPORT_LISTS[name] : undefined;
    if (!spec) return c.notFound();
    // Each list's export needs what its page needs (the audit log is not for every role).
    if (name === 'audit' && !can(c, 'GET /audit')) return c.text('forbidden', 403);
    // A bad day is refused rather than exporting the whole list unfiltered (the page shows it unfiltered, and says so).
    const days = DATED.has(name) ? dateFilter(c) : null;
    if (days?.flash) return c.text(String(days.flash.text), 400);
    const t = c.get('t');
    const data = await collect(c, spec);
    const batchNo = q(c, 'batch_no', 64);
    const file = `${name}${batchNo !== '' ? `-${batchNo}` : ''}-${stamp(c)}.${format}`;
    const disposition = `attachment; filename="${file}"`;
    await c
      .get('ctx')
      .services.audit.record({
        actor: `operator:${c.get('session')?.operator.username ?? '?'}`,
        action: 'export',
        target: name,
        details: { format, rows: data.rows.length, query: new URL(c.req.url).search.slice(0, 300) },
      })
      .catch(() => undefined);
    if (format === 'csv') {
      return c.body(toCsv(data.head, data.rows), 200, {
        'content-type': 'text/csv; charset=utf-8',
        'content-disposition': disposition,
        'cache-control': 'no-store',
      });
    }
    const body = await toXlsx(spec.sheet(t), spec, data);
    return c.body(new Uint8Array(body), 200, {
      'content-type': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
      'content-disposition': disposition,
      'cache-control': 'no-store',
    });
  });
}

/** "Export CSV · Export Excel" links for a list, with the list's filters. */
export function exportLinks(
  t: Dict,
  list: ExportList,
  params: Record<string, string | number | undefined | null>,
): Html {
  const { page: _page, ...filters } = params;
  return h`<span class="export-links" title="${t.work.exportHint}"><a class="btn btn-small btn-ghost" href="${href(`/export/${list}.csv`, filters)}" download data-export="${list}.csv">${t.work.exportCsv}</a><a class="btn btn-small btn-ghost" href="${href(`/export/${list}.xlsx`, filters)}" download data-export="${list}.xlsx">${t.work.exportXlsx}</a></span>`;
}
