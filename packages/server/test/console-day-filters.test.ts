/**
 * Issue 13 point 10: date-range filters on the trades and batches lists (Beijing days, both included), in the
 * console (zh and en, a bad day named), its pagination, its exports, and the JSON API's `from` / `to`. Over real
 * HTTP on loopback against the real server on a SQLite file; the stored `created_at` of each row is set around
 * the Beijing midnight that a UTC date would get wrong.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConsoleClient, type ConsoleServer, startConsoleServer } from './console-helpers.js';
import { listen } from './helpers.js';

const T1 = '2026011521001004180000401117';
const T2 = '2026011521001004180000402234';
const T3 = '2026011521001004180000403351';
/** 2026-01-10 23:59:59 in Beijing, 2026-01-11 00:00:00 in Beijing (still the 10th in UTC), 2026-01-12 18:00. */
const AT: Record<string, string> = {
  [T1]: '2026-01-10T15:59:59.000Z',
  [T2]: '2026-01-10T16:00:00.000Z',
  [T3]: '2026-01-12T10:00:00.000Z',
};

let s: ConsoleServer;
let http: { url: string; close(): Promise<void> };
let b: ConsoleClient;
let token = '';
const batchOf: Record<string, string> = {};

function tradesShown(html: string): string[] {
  return [...html.matchAll(/<tr data-trade="(\d+)"/g)].map((m) => m[1]!);
}
function batchesShown(html: string): string[] {
  return [T1, T2, T3].filter((t) => html.includes(`/batches/${batchOf[t]}"`));
}
function flash(html: string): string {
  return /<div class="flash flash-error"[^>]*>([\s\S]*?)<\/div>/.exec(html)?.[1] ?? '';
}
async function download(path: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`${http.url}${path}`, {
    headers: { cookie: [...b.cookies].map(([k, v]) => `${k}=${v}`).join('; ') },
  });
  return { status: res.status, text: await res.text() };
}
interface ListBody {
  items: { tradeNo?: string; batchNo?: string }[];
  total: number;
  code?: string;
  field?: string;
}
async function api(path: string): Promise<{ status: number; body: ListBody }> {
  const res = await fetch(`${http.url}/api${path}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, body: (await res.json()) as ListBody };
}

beforeAll(async () => {
  s = await startConsoleServer();
  http = await listen(s.app);
  b = new ConsoleClient({ baseUrl: http.url });
  expect((await b.login()).status).toBe(303);
  token = (await s.server.services.tokens.create('day-filters', 'test')).token;
  const trades = [T1, T2, T3];
  const reg = await s.server.services.trades.register(
    trades.map((tradeNo, i) => ({ tradeNo, amountFen: 1000 * (i + 1), outTradeNo: `DAY-${i + 1}` })),
    'test',
  );
  expect(reg.issues).toEqual([]);
  const created = await s.server.services.refunds.createBatches(
    trades.map((tradeNo) => ({ tradeNo, amountFen: 100, reason: '协商退款' })),
    { mode: 'nopwd', actor: 'test', queue: false, batchSize: 1 },
  );
  expect(created.batches).toHaveLength(3);
  const db = s.server.database.db;
  for (const batch of created.batches) {
    const tradeNo = batch.records[0]!.tradeNo;
    batchOf[tradeNo] = batch.batchNo;
    await db
      .updateTable('srv_trades')
      .set({ created_at: AT[tradeNo]! })
      .where('trade_no', '=', tradeNo)
      .execute();
    await db
      .updateTable('srv_batches')
      .set({ created_at: AT[tradeNo]! })
      .where('batch_no', '=', batch.batchNo)
      .execute();
  }
});
afterAll(async () => {
  await http?.close();
  await s?.cleanup();
});

describe('date-range filters (Beijing days)', () => {
  it('filter the trades list by registration day, both ends included, the Beijing midnight honoured', async () => {
    expect(tradesShown((await b.get('/trades')).html).sort()).toEqual([T1, T2, T3]);
    const oneDay = await b.get('/trades?from=2026-01-11&to=2026-01-11');
    expect(oneDay.status).toBe(200);
    expect(tradesShown(oneDay.html)).toEqual([T2]);
    expect(tradesShown((await b.get('/trades?from=2026-01-11')).html).sort()).toEqual([T2, T3]);
    expect(tradesShown((await b.get('/trades?to=2026-01-10')).html)).toEqual([T1]);
    // Other filters still apply with the dates.
    expect(tradesShown((await b.get('/trades?from=2026-01-10&q=DAY-3')).html)).toEqual([T3]);
    // The inputs show the range; the form posts it as day_from / day_to.
    expect(oneDay.html).toMatch(/<input type="date" id="day_from" name="day_from" value="2026-01-11"/);
    expect(oneDay.html).toMatch(/<input type="date" id="day_to" name="day_to" value="2026-01-11"/);
  });

  it('keep the trades range through search and paging (the pick form) and in its export links', async () => {
    const page = await b.get('/trades?from=2026-01-11&to=2026-01-12');
    const next = await b.post('/trades/pick', {
      from: 'list',
      page: '1',
      go: 'page:2',
      day_from: '2026-01-11',
      day_to: '2026-01-12',
      q: '',
    });
    expect(next.status).toBe(303);
    expect(next.location).toBe('/trades?from=2026-01-11&to=2026-01-12&page=2');
    const search = await b.post('/trades/pick', { from: 'list', go: 'search', day_from: '2026-01-12' });
    expect(search.location).toBe('/trades?from=2026-01-12');
    expect(page.html).toContain('href="/export/trades.csv?from=2026-01-11&amp;to=2026-01-12"');
  });

  it('the trades export honours the range (CSV and xlsx) and refuses a bad day', async () => {
    const csv = await download('/export/trades.csv?from=2026-01-11&to=2026-01-11');
    expect(csv.status).toBe(200);
    expect(csv.text).toContain(T2);
    expect(csv.text).not.toContain(T1);
    expect(csv.text).not.toContain(T3);
    const all = await download('/export/trades.csv');
    for (const t of [T1, T2, T3]) expect(all.text).toContain(t);
    const bad = await download('/export/trades.xlsx?from=2026-13-01&lang=en');
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('“2026-13-01” is not a valid date');
  });

  it('filter the batches list by creation day; pager and export links keep the range', async () => {
    const page = await b.get('/batches?from=2026-01-11&to=2026-01-11');
    expect(page.status).toBe(200);
    expect(batchesShown(page.html)).toEqual([T2]);
    expect(batchesShown((await b.get('/batches?to=2026-01-10')).html)).toEqual([T1]);
    expect(batchesShown((await b.get('/batches?from=2026-01-11')).html).sort()).toEqual([T2, T3]);
    expect(page.html).toMatch(/<input type="date" id="from" name="from" value="2026-01-11"/);
    expect(page.html).toContain('href="/export/batches.csv?from=2026-01-11&amp;to=2026-01-11"');
    const second = await b.get('/batches?from=2026-01-11&to=2026-01-12&mode=nopwd&page=2');
    expect(second.html).toContain(
      'href="/batches?mode=nopwd&amp;from=2026-01-11&amp;to=2026-01-12&amp;page=1"',
    );
    const csv = await download('/export/batches.csv?from=2026-01-12&to=2026-01-12');
    expect(csv.status).toBe(200);
    expect(csv.text).toContain(batchOf[T3]!);
    expect(csv.text).not.toContain(batchOf[T1]!);
    expect(csv.text).not.toContain(batchOf[T2]!);
  });

  it('name a bad day in zh and en (400), and show the list unfiltered by date', async () => {
    const zh = await b.get('/trades?from=2026-02-30&lang=zh-CN');
    expect(zh.status).toBe(400);
    expect(flash(zh.html)).toContain('开始日期“2026-02-30”不是有效的日期');
    expect(flash(zh.html)).toContain('日期筛选未生效');
    expect(tradesShown(zh.html).sort()).toEqual([T1, T2, T3]);
    const en = await b.get('/batches?to=yesterday&lang=en');
    expect(en.status).toBe(400);
    expect(flash(en.html)).toContain('To “yesterday” is not a valid date');
    expect(batchesShown(en.html)).toHaveLength(3);
    const order = await b.get('/batches?from=2026-01-12&to=2026-01-11&lang=zh-CN');
    expect(order.status).toBe(400);
    expect(flash(order.html)).toContain('结束日期 2026-01-11 早于开始日期 2026-01-12');
  });

  it('the JSON API takes from / to on trades and batches, with the other parameters, and refuses a bad day', async () => {
    const trades = await api('/trades?from=2026-01-11&to=2026-01-11');
    expect(trades.status).toBe(200);
    expect(trades.body.items.map((t) => t.tradeNo)).toEqual([T2]);
    const withQ = await api('/trades?from=2026-01-10&q=DAY-1');
    expect(withQ.body.items.map((t) => t.tradeNo)).toEqual([T1]);
    expect((await api('/trades')).body.total).toBe(3);
    const batches = await api('/batches?from=2026-01-12');
    expect(batches.status).toBe(200);
    expect(batches.body.items.map((x) => x.batchNo)).toEqual([batchOf[T3]]);
    expect((await api(`/batches?to=2026-01-11&q=${T1}`)).body.items).toHaveLength(1);
    const bad = await api('/batches?from=2026-1-5');
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ code: 'INVALID_REQUEST', field: 'from' });
    const order = await api('/trades?from=2026-01-12&to=2026-01-10');
    expect(order.status).toBe(400);
    expect(order.body).toMatchObject({ code: 'INVALID_REQUEST', field: 'to' });
  });
});
