/**
 * The refund template page as a Chinese operator uses it (issue 13, points 3–5), in Chromium: records named by
 * merchant order number (商户订单号), a refund file uploaded in the forms Excel makes (GBK CSV with Chinese
 * headers, .xlsx), and every problem of every record (format and business together) on the first validation,
 * each with its record, field, code and what to do, in zh and en.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { openTestDatabase, type TestDatabase } from '@alirefund/store/testing';
import ExcelJS from 'exceljs';
import type { Hono } from 'hono';
import iconv from 'iconv-lite';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../../../testing/chromium.js';
import { type AlirefundServer, createServer, makeSettings, type ServerDB } from '../src/index.js';
import { listen, makeConfig } from './helpers.js';

const ADMIN_PASSWORD = 'e2e-template-password';
const SHOTS = resolve(process.cwd(), 'test-results');

const T = (k: number) => `20261204210010041800${String(k).padStart(8, '0')}`;
/** Paid trades, each with its merchant order number. */
const TRADES = [1, 2, 3, 4, 5, 6].map((k) => ({
  tradeNo: T(k),
  outTradeNo: `ZH-ORDER-${k}`,
  amountFen: 1000,
}));

describe('the template page in Chromium: order numbers, refund files, one pass of errors', () => {
  let serverDb: TestDatabase<ServerDB>;
  let server: AlirefundServer;
  let browser: Browser;
  let page: Page;
  let base = '';
  const closers: (() => Promise<void>)[] = [];
  const shot = (name: string) =>
    page.screenshot({ path: join(SHOTS, `template-${name}.png`), fullPage: true });

  /** The issues shown: [record, field, code] in order. */
  const shown = () =>
    page.$$eval('#template-issues li.issue', (lis) =>
      lis.map((li) => [
        li.getAttribute('data-record') ?? '',
        li.querySelector('.field')?.textContent ?? '',
        li.getAttribute('data-code') ?? '',
      ]),
    );

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    serverDb = await openTestDatabase<ServerDB>('sqlite');
    let app: Hono | undefined;
    const srv = await listen({
      fetch: (req, env) => (app ? app.fetch(req, env) : new Response('starting', { status: 503 })),
    });
    closers.push(srv.close);
    base = srv.url;
    server = await createServer({
      settings: makeSettings({
        alipay: makeConfig('http://127.0.0.1:9/gateway.do'),
        publicUrl: srv.url,
        adminPassword: ADMIN_PASSWORD,
      }),
      database: serverDb,
      background: false,
    });
    app = server.app;
    const reg = await server.services.trades.register(TRADES, 'test');
    expect(reg.issues).toEqual([]);
    // T(5) refunded in full already; T(6)'s order number is shared with another trade.
    await server.database.db
      .updateTable('srv_trades')
      .set({ refunded_fen: 1000, refund_count: 1, status: 'fully_refunded' })
      .where('trade_no', '=', T(5))
      .execute();
    await server.services.trades.register(
      [{ tradeNo: T(7), outTradeNo: 'ZH-ORDER-6', amountFen: 500 }],
      'test',
    );

    browser = await launchChromium({ quiet: false });
    const context = await browser.newContext({ viewport: { width: 1360, height: 900 }, locale: 'zh-CN' });
    page = await context.newPage();
    await page.goto(`${base}/login`);
    await page.fill('#username', 'admin');
    await page.fill('#password', ADMIN_PASSWORD);
    await Promise.all([page.waitForLoadState('load'), page.click('#login-submit')]);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    for (const close of closers.reverse()) await close().catch(() => {});
    await server?.close();
    await serverDb?.cleanup();
  });

  it('zh: typed records by order number; every problem of every record on the first validation', async () => {
    await page.goto(`${base}/template?lang=zh-CN`);
    await page.fill('#batch_num', '7');
    await page.fill(
      '#detail_data',
      [
        'ZH-ORDER-1^1.00^七天无理由', // 1: fine, by order number
        `${T(2)}^1.234^金额三位小数`, // 2: format
        `${T(99)}^1.00^未登记`, // 3: unknown trade
        'ZH-ORDER-404^1.00^未知订单', // 4: unknown order
        `${T(5)}^1.00^已全额退款`, // 5: already refunded
        'ZH-ORDER-4^10.01^超额', // 6: over-refund
        'ZH-ORDER-6^1.00^一个订单两笔交易', // 7: ambiguous order
      ].join('#\n'),
    );
    await Promise.all([page.waitForLoadState('load'), page.click('#template-validate')]);
    expect(await shown()).toEqual([
      ['2', 'amount', 'DETAIL_DATA_FORMAT_ERROR'],
      ['3', 'tradeNo', 'TRADE_NOT_FOUND'],
      ['4', 'tradeNo', 'ORDER_NOT_FOUND'],
      ['5', 'amount', 'EXCEEDS_REFUNDABLE'],
      ['6', 'amount', 'EXCEEDS_REFUNDABLE'],
      ['7', 'tradeNo', 'ORDER_AMBIGUOUS'],
    ]);
    const text = (await page.locator('#template-issues').textContent()) ?? '';
    expect(text).toContain('没有登记商户订单号为 ZH-ORDER-404 的交易');
    expect(text).toContain(`交易 ${T(5)} 已没有可退金额`);
    expect(text).toContain('请改为不超过 10.00 元');
    expect(text).toContain('请改填要退款那一笔的支付宝交易号');
    expect(text).toContain(`交易 ${T(99)} 未登记`);
    await shot('zh-one-pass');
    expect(await server.database.db.selectFrom('srv_batches').selectAll().execute()).toEqual([]);
  });

  it('zh: a GBK CSV with Chinese headers is read and checked; a valid .xlsx validates', async () => {
    await page.goto(`${base}/template?lang=zh-CN`);
    const csv = [
      '商户订单号,退款金额,退款原因',
      'ZH-ORDER-1,1.00,尺码不合适',
      'ZH-ORDER-404,2.00,未知',
      `${T(5)},abc,金额`,
    ].join('\r\n');
    await page.setInputFiles('#refund_file', {
      name: '退款.csv',
      mimeType: 'text/csv',
      buffer: iconv.encode(csv, 'gbk'),
    });
    await Promise.all([page.waitForLoadState('load'), page.click('#template-validate')]);
    const issues = await shown();
    expect(issues).toContainEqual(['2', 'out_trade_no', 'ORDER_NOT_FOUND']);
    expect(issues).toContainEqual(['3', 'amount', 'DETAIL_DATA_FORMAT_ERROR']);
    const said = (await page.locator('#template-issues').textContent()) ?? '';
    expect(said).toContain('文件第 3 行');
    expect(said).toContain('没有登记商户订单号为 ZH-ORDER-404 的交易');
    expect(said).not.toContain('no registered trade');
    // The records read from the file are shown for correction (order numbers resolved to trade numbers).
    expect(await page.inputValue('#batch_num')).toBe('3');
    expect(await page.inputValue('#detail_data')).toContain(`${T(1)}^1.00^尺码不合适`);
    await shot('zh-file');

    // A column the reader does not know is named, in Chinese, with the columns it knows.
    await page.goto(`${base}/template?lang=zh-CN`);
    await page.setInputFiles('#refund_file', {
      name: 'cols.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from('商户订单号,退款金额,退款原因,备注二\nZH-ORDER-1,1.00,a,b\n'),
    });
    await Promise.all([page.waitForLoadState('load'), page.click('#template-validate')]);
    expect(await shown()).toEqual([['', 'column 4', 'UNKNOWN_COLUMN']]);
    expect((await page.locator('#template-issues').textContent()) ?? '').toContain('未知的列“备注二”');

    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet('退款');
    ws.addRow(['支付宝交易号', '退款金额', '退款原因']);
    ws.addRow([T(1), 1.5, '破损']);
    ws.addRow([T(2), '2.00', '发错货']);
    await page.goto(`${base}/template?lang=zh-CN`);
    await page.setInputFiles('#refund_file', {
      name: 'refunds.xlsx',
      mimeType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
      buffer: Buffer.from(await wb.xlsx.writeBuffer()),
    });
    await Promise.all([page.waitForLoadState('load'), page.click('#template-validate')]);
    expect(await page.locator('#template-issues').count()).toBe(0);
    expect(await page.locator('#template-records tbody tr').count()).toBe(2);
    expect((await page.locator('.flash').first().textContent()) ?? '').toContain('校验通过');
  });

  it('en: the same problems, explained in English', async () => {
    await page.goto(`${base}/template?lang=en`);
    await page.fill('#batch_num', '2');
    await page.fill('#detail_data', `ZH-ORDER-404^1.00^x#${T(5)}^1.00^y`);
    await Promise.all([page.waitForLoadState('load'), page.click('#template-validate')]);
    expect(await shown()).toEqual([
      ['1', 'tradeNo', 'ORDER_NOT_FOUND'],
      ['2', 'amount', 'EXCEEDS_REFUNDABLE'],
    ]);
    const text = (await page.locator('#template-issues').textContent()) ?? '';
    expect(text).toContain('No registered trade has the merchant order number ZH-ORDER-404');
    expect(text).toContain('has nothing left to refund');
    expect(text).not.toMatch(/[\u4e00-\u9fff]/);
  });
});
