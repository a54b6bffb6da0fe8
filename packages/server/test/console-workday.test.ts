/**
 * A refund operator's day in the console (issue 13): export of every list (CSV with a BOM, .xlsx) honouring
 * the list's filters, in zh and en; the failed records of a finished batch (redo form, the dashboard's
 * 需要处理 counter, /failed, the trade page's note); the live endpoints the batch and dashboard pages poll.
 */
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConsoleClient, type ConsoleServer, startConsoleServer } from './console-helpers.js';
import { batchNotification, postNotify, type StubGateway, startStubGateway } from './helpers.js';

const T1 = '2026011521001004180000301117';
const T2 = '2026011521001004180000302234';
const T3 = '2026011521001004180000303351';

let stub: StubGateway;
let s: ConsoleServer;
let b: ConsoleClient;
let batchNo = '';

async function raw(path: string): Promise<Response> {
  return s.app.request(path, {
    headers: { cookie: [...b.cookies].map(([k, v]) => `${k}=${v}`).join('; ') },
  });
}

async function csv(path: string): Promise<string[][]> {
  const res = await raw(path);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
  expect(res.headers.get('content-disposition')).toMatch(
    /^attachment; filename="[a-z]+(-\w+)?-\d{8}-\d{6}\.csv"$/,
  );
  const bytes = new Uint8Array(await res.arrayBuffer());
  expect([...bytes.slice(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
  const text = new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes).slice(1);
  return text
    .trimEnd()
    .split('\r\n')
    .map((l) => l.split(','));
}

async function xlsx(path: string): Promise<unknown[][]> {
  const res = await raw(path);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe(
    'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  );
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load((await res.arrayBuffer()) as never);
  const ws = wb.worksheets[0]!;
  const rows: unknown[][] = [];
  ws.eachRow((row) => rows.push((row.values as unknown[]).slice(1)));
  return rows;
}

beforeAll(async () => {
  stub = await startStubGateway();
  s = await startConsoleServer({ gateway: stub.gateway });
  b = new ConsoleClient(s.app);
  expect((await b.login()).status).toBe(303);
  const reg = await s.server.services.trades.register(
    [
      { tradeNo: T1, amountFen: 1000, outTradeNo: 'ORDER-1', subject: '纯棉T恤' },
      { tradeNo: T2, amountFen: 2550, outTradeNo: 'ORDER-2', subject: '帆布包, "大号"' },
      { tradeNo: T3, amountFen: 880, outTradeNo: 'ORDER-3', subject: '=HYPERLINK("x")' },
    ],
    'test',
  );
  expect(reg.issues).toEqual([]);
  await b.get('/trades');
  const res = await b.post('/refunds', [
    ['t', T1],
    ['t', T2],
    ['reason_all', '协商退款'],
    ['mode', 'nopwd'],
  ]);
  batchNo = /^\/batches\/(\w+)/.exec(res.location ?? '')![1]!;
  stub.valid.add(`nid-${batchNo}`);
  const n = batchNotification({
    batchNo,
    notifyId: `nid-${batchNo}`,
    results: [
      { tradeNo: T1, amount: '10.00' },
      { tradeNo: T2, amount: '25.50', code: 'TRADE_HAS_CLOSED' },
    ],
  });
  expect((await postNotify(s.app, n.body)).text).toBe('success');
  await b.get('/dashboard?lang=zh-CN');
});

afterAll(async () => {
  await s?.cleanup();
  await stub?.close();
});

describe('export', () => {
  it('every list page links its CSV and Excel export with the page filters', async () => {
    const pages: [string, string][] = [
      ['/batches?state=finished', '/export/batches.csv?state=finished'],
      [`/batches/${batchNo}`, `/export/records.csv?batch_no=${batchNo}`],
      [`/batches/${batchNo}`, `/export/records.xlsx?batch_no=${batchNo}&amp;failed=1`],
      ['/notifications?verdict=accepted', '/export/notifications.xlsx?verdict=accepted'],
      ['/audit?actor=operator%3Aadmin', '/export/audit.csv?actor=operator%3Aadmin'],
      ['/trades?q=ORDER', '/export/trades.csv?q=ORDER'],
      ['/failed', '/export/failed.csv?outstanding=1'],
    ];
    for (const [page, link] of pages) {
      const html = (await b.get(page)).html;
      expect(html, page).toContain(`href="${link}"`);
      expect(html, page).toContain('导出 CSV');
      expect(html, page).toContain('导出 Excel');
    }
    expect((await b.get('/audit?lang=en')).html).toContain('Export Excel');
    await b.get('/dashboard?lang=zh-CN');
  });

  it('CSV: UTF-8 with a BOM, Chinese headings, quoted fields, formulas neutralised, filters honoured', async () => {
    const batches = await csv('/export/batches.csv?state=finished');
    expect(batches[0]![0]).toMatch(/批次/);
    expect(batches.length).toBe(2);
    expect(batches[1]![0]).toBe(batchNo);
    expect(batches[1]![4]).toBe('35.50');
    expect(await csv('/export/batches.csv?state=draft')).toHaveLength(1);

    const trades = await csv('/export/trades.csv?q=ORDER-3');
    expect(trades).toHaveLength(2);
    expect(trades[1]!.join(',')).toContain(`"'=HYPERLINK(""x"")"`);
    const all = await raw('/export/trades.csv');
    const text = await all.text();
    expect(text).toContain('"帆布包, ""大号"""');
    expect(text).toContain('纯棉T恤');

    const records = await csv(`/export/records.csv?batch_no=${batchNo}`);
    expect(records).toHaveLength(3);
    expect(records[0]).toContain('处理建议');
    const failed = records.find((r) => r.includes(T2))!;
    expect(failed).toContain('失败');
    expect(failed).toContain('TRADE_HAS_CLOSED');
    expect(await csv(`/export/records.csv?batch_no=${batchNo}&failed=1`)).toHaveLength(2);

    const notes = await csv(`/export/notifications.csv?batch_no=${batchNo}`);
    expect(notes).toHaveLength(2);
    expect(await csv('/export/notifications.csv?verdict=rejected')).toHaveLength(1);
    const audit = await csv('/export/audit.csv?actor=operator:admin');
    expect(audit.length).toBeGreaterThan(1);
    expect(audit.slice(1).every((r) => r[1] === 'operator:admin')).toBe(true);
    expect(await csv('/export/audit.csv?actor=nobody')).toHaveLength(1);
    const failedList = await csv('/export/failed.csv');
    expect(failedList).toHaveLength(2);
    expect(failedList[1]).toContain(T2);
  });

  it('CSV headings follow the language (en)', async () => {
    await b.get('/dashboard?lang=en');
    const batches = await csv('/export/batches.csv');
    expect(batches[0]![0]).toBe('Batch no.');
    const records = await csv(`/export/records.csv?batch_no=${batchNo}`);
    expect(records[0]).toContain('What to do');
    expect(records.find((r) => r.includes(T2))).toContain('Failed');
    await b.get('/dashboard?lang=zh-CN');
  });

  it('.xlsx: one sheet, the same headings, amounts as numbers, filters honoured', async () => {
    const rows = await xlsx(`/export/records.xlsx?batch_no=${batchNo}&failed=1`);
    expect(rows).toHaveLength(2);
    expect(rows[0]).toContain('处理建议');
    expect(rows[1]).toContain(T2);
    expect(rows[1]).toContain(25.5);
    const trades = await xlsx('/export/trades.xlsx?q=ORDER');
    expect(trades).toHaveLength(4);
    expect(trades.flat()).toContain('帆布包, "大号"');
    for (const list of ['batches', 'notifications', 'audit', 'failed']) {
      expect((await xlsx(`/export/${list}.xlsx`)).length, list).toBeGreaterThan(1);
    }
  });

  it('an unknown list or a missing batch is refused', async () => {
    expect((await raw('/export/secrets.csv')).status).toBe(404);
    expect((await raw('/export/records.csv?batch_no=NOPE')).status).toBe(404);
  });
});

describe('failed records', () => {
  it('a finished batch offers to refund its failed records again, as a preview of a new batch', async () => {
    const page = await b.get(`/batches/${batchNo}`);
    expect(page.html).toContain('id="redo"');
    expect(page.html).toContain('重新退款失败的记录（1 笔）');
    expect(page.html).toContain(`name="amount.${T2}" value="25.50"`);
    expect(page.html).not.toContain(`name="amount.${T1}"`);
    expect((await b.get(`/batches/${batchNo}?lang=en`)).html).toContain(
      'Refund the failed records again (1)',
    );
    await b.get(`/batches/${batchNo}?lang=zh-CN`);
    const preview = await b.post('/refunds/preview', [
      ['t', T2],
      [`amount.${T2}`, '25.50'],
      [`reason.${T2}`, '协商退款'],
      ['mode', 'nopwd'],
    ]);
    expect(preview.status).toBe(200);
    expect(preview.html).toContain(T2);
    expect(preview.html).toContain('25.50');
    expect(preview.html).not.toContain(`value="${T1}"`);
  });

  it('failed records count in the dashboard 需要处理 counter, /failed lists them, the trade page says so', async () => {
    const dash = await b.get('/dashboard');
    expect(dash.html).toMatch(/id="kpi-attention" data-batches="0" data-failed="1">1</);
    expect(dash.html).toContain('1 笔失败记录待重新退款');
    expect((await b.get('/dashboard?lang=en')).html).toContain('1 failed record(s) to refund again');
    await b.get('/dashboard?lang=zh-CN');
    const failed = await b.get('/failed');
    expect(failed.html).toContain(`data-trade="${T2}" data-result="TRADE_HAS_CLOSED"`);
    expect(failed.html).toContain('id="redo-failed"');
    const trade = await b.get(`/trades/${T2}`);
    expect(trade.html).toContain('id="last-attempt-failed"');
    expect(trade.html).toContain('最近一次退款失败');
    expect((await b.get(`/trades/${T2}?lang=en`)).html).toContain('The last refund attempt failed');
    await b.get('/dashboard?lang=zh-CN');
    expect((await b.get(`/trades/${T1}`)).html).not.toContain('id="last-attempt-failed"');
  });

  it('once a new batch holds the trade, the record is no longer counted', async () => {
    await b.get('/trades');
    const res = await b.post('/refunds', [
      ['t', T2],
      [`amount.${T2}`, '25.50'],
      ['reason_all', '协商退款'],
      ['mode', 'pwd'],
    ]);
    expect(res.status).toBeLessThan(400);
    const dash = await b.get('/dashboard');
    expect(dash.html).toMatch(/data-failed="0"/);
    expect((await csv('/export/failed.csv?outstanding=1')).length).toBe(1);
    expect((await csv('/export/failed.csv')).length).toBe(2);
  });
});

describe('live pages', () => {
  it('the batch and dashboard pages carry a live marker; the endpoints answer a version; CSP allows connect to self only', async () => {
    const page = await b.get(`/batches/${batchNo}`);
    expect(page.html).toMatch(
      new RegExp(`data-live="/live/batches/${batchNo}" data-live-v="finished\\|[^"]+" data-live-final="1"`),
    );
    expect(page.headers.get('content-security-policy')).toContain("connect-src 'self'");
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(page.html).not.toMatch(/<script(?![^>]*\bsrc=)/);
    const live = (await (await raw(`/live/batches/${batchNo}`)).json()) as { v: string; final: boolean };
    expect(live.final).toBe(true);
    expect(live.v).toMatch(/^finished\|/);
    const dash = await b.get('/dashboard');
    const v = /data-live="\/live\/dashboard" data-live-v="([^"]+)"/.exec(dash.html)?.[1];
    const dv = (await (await raw('/live/dashboard')).json()) as { v: string };
    expect(dv.v).toBe(v?.replaceAll('&#39;', "'"));
    const js = await (await s.app.request('/assets/console.js')).text();
    expect(js).toContain('data-live');
    expect((await new ConsoleClient(s.app).get(`/live/batches/${batchNo}`)).status).toBe(303);
  });
});
